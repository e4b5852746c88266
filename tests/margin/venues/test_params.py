"""Venue parameter sets: round trips, validation naming the field, shared position checks."""

import pytest

from research.errors import (
    DataError,
    ExpiredInstrumentError,
    ParameterError,
    SpecificationError,
    UnknownUnderlyingError,
)
from research.margin.venues import (
    VenueParameters,
    available_parameter_sets,
    check_positions,
    position_name,
)
from research.portfolio import (
    DatedFuture,
    EuropeanOption,
    LinearPerpetual,
    Market,
    Portfolio,
    Position,
    Spot,
)


def _set(**values):
    return VenueParameters(
        venue="X",
        methodology="X-style",
        version="v1",
        effective_date="2025-01-06",
        sources=("https://example.org/x",),
        values=values or {"groups": {"large": {"move": 0.24}}, "table": {"BTC": 1, "*": 2}},
        notes="test",
    )


def test_round_trip_dict_and_yaml(tmp_path):
    p = _set()
    assert VenueParameters.from_dict(p.to_dict()) == p
    path = tmp_path / "x.yaml"
    p.to_yaml(path)
    q = VenueParameters.from_yaml(path)
    assert q == p and q.fingerprint == p.fingerprint
    assert hash(q) == hash(p) and len({p, q}) == 1  # usable as a key (engines are hashable)
    assert _set(groups={"large": {"move": 0.25}}).fingerprint != p.fingerprint


def test_values_are_copied():
    values = {"a": [1.0, 2.0]}
    p = _set(**values)
    values["a"].append(3.0)
    assert p.numbers("a") == (1.0, 2.0)
    p.value("a").append(4.0)
    assert p.numbers("a") == (1.0, 2.0)


def test_missing_parameter_names_the_path():
    with pytest.raises(ParameterError, match=r"X-style.*'groups\.large\.mr6_move'"):
        _set().number("groups", "large", "mr6_move")


@pytest.mark.parametrize(
    ("value", "kwargs", "match"),
    [
        (-0.1, {"low": 0.0}, ">= 0"),
        (0.0, {"low": 0.0, "strict": True}, "> 0"),
        (1.5, {"high": 1.0}, "<= 1"),
        ("0.2", {}, "must be a number"),
        (True, {}, "must be a number"),
    ],
)
def test_number_checks(value, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        _set(x=value).number("x", **kwargs)


def test_numbers_needs_a_list():
    with pytest.raises(ParameterError, match="non-empty list"):
        _set(x=0.1).numbers("x")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("venue", "", "venue must be a non-empty string"),
        ("version", None, "version must be a non-empty string"),
        ("effective_date", "06/01/2025", "not an ISO date"),
        ("effective_date", None, "effective_date is missing"),
        ("sources", (), "at least one"),
        ("sources", "https://x", "list of URLs"),
        ("values", {}, "non-empty mapping"),
        ("values", {"a": float("nan")}, "a is nan"),
        ("values", {"a": {"b": [1.0, float("inf")]}}, r"a\.b\[1\] is inf"),
        ("values", {"a": {1: 2}}, "key 1"),
        ("values", {"a": object()}, "a is a object"),
    ],
)
def test_header_and_values_validation(field, value, match):
    data = _set().to_dict()
    data[field] = value
    with pytest.raises(ParameterError, match=match):
        VenueParameters.from_dict(data)


def test_from_dict_names_missing_and_unknown_fields():
    data = _set().to_dict()
    del data["sources"]
    with pytest.raises(ParameterError, match=r"missing fields \['sources'\]"):
        VenueParameters.from_dict(data)
    data = {**_set().to_dict(), "colour": "red"}
    with pytest.raises(ParameterError, match=r"unknown fields \['colour'\]"):
        VenueParameters.from_dict(data)


def test_bad_yaml_is_a_specification_error():
    with pytest.raises(SpecificationError, match="not valid YAML"):
        VenueParameters.from_yaml("venue: [unclosed\nversion: 1\n")


def test_currency_table_and_catch_all():
    p = _set()
    assert p.for_currency("table", "BTC", "pos") == 1
    assert p.for_currency("table", "DOGE", "pos") == 2
    strict = _set(table={"BTC": 1})
    with pytest.raises(UnknownUnderlyingError, match=r"pos: currency 'DOGE'.*\['BTC'\]"):
        strict.for_currency("table", "DOGE", "pos")


def test_unknown_set_name():
    with pytest.raises(ParameterError, match="no venue parameter set named 'nope'"):
        VenueParameters.load("nope")


def test_shipped_sets_load_and_round_trip():
    for name in available_parameter_sets():
        p = VenueParameters.load(name)
        assert VenueParameters.from_yaml(p.to_yaml()) == p
        assert p.methodology.endswith("-style")


MARKET = Market(spot={"BTC": 60_000.0}, valuation_date="2026-01-01", volatility={"BTC": 0.5})


def _book(*instruments):
    return Portfolio([Position(i, 1.0) for i in instruments]).to_book()


def test_position_checks():
    supported = (LinearPerpetual, DatedFuture, EuropeanOption)
    check_positions("X-style", _book(LinearPerpetual("BTC")), MARKET, supported)
    spot = Spot("BTC")
    with pytest.raises(DataError, match=r"position 'BTC spot' \(Spot on 'BTC'\) is not an"):
        check_positions("X-style", _book(spot), MARKET, supported)
    with pytest.raises(UnknownUnderlyingError, match="'ETH linear perp'.*no price for 'ETH'"):
        check_positions("X-style", _book(LinearPerpetual("ETH")), MARKET, supported)
    old = DatedFuture("BTC", "2025-12-31", name="BTC-31DEC25")
    with pytest.raises(ExpiredInstrumentError, match="'BTC-31DEC25'.*expired"):
        check_positions("X-style", _book(old), MARKET, supported)
    no_vol = Market(spot={"BTC": 60_000.0})
    with pytest.raises(DataError, match="no implied volatility"):
        check_positions("X-style", _book(EuropeanOption("BTC", 60_000.0, 0.1)), no_vol, supported)
    assert position_name(spot) == "position 'BTC spot' (Spot on 'BTC')"


def test_venue_engines_refuse_an_instrument_type_they_do_not_margin():
    from dataclasses import dataclass

    from research.margin.venues import DeribitEngine, OkxEngine

    @dataclass(frozen=True)
    class Variance:
        underlying: str = "BTC"

        @property
        def label(self):
            return "BTC variance swap"

        def pnl(self, market, spot, vol_shift=0.0):
            return 0.0 * spot

        def greeks(self, market):
            from research.portfolio import Greeks

            return Greeks(notional=1.0, delta=0.0)

    p = Portfolio([Position(Variance(), 1.0)])
    for engine in (
        DeribitEngine(VenueParameters.load("deribit_2024-06-17")),
        OkxEngine(VenueParameters.load("okx_2025-01-06")),
    ):
        with pytest.raises(DataError, match=r"'BTC variance swap' \(Variance on 'BTC'\) is not"):
            engine.margin(p, MARKET)
