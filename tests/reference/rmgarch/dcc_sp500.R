# Reference DCC(1,1)-GARCH(1,1) fits with rmgarch on the bundled S&P 500 returns.
# Input: returns.csv written from Python as
#   research.data.to_returns(research.data.load_dataset("sp500")).iloc[-2500:].to_csv("returns.csv")
# Run: Rscript dcc_sp500.R   (rmgarch 1.3-9, rugarch 1.5-1, R 4.3)
library(rmgarch)
r <- read.csv("returns.csv", row.names = 1)
fit_one <- function(x) {
  uspec <- ugarchspec(mean.model = list(armaOrder = c(0, 0), include.mean = TRUE),
                      variance.model = list(model = "sGARCH", garchOrder = c(1, 1)),
                      distribution.model = "norm")
  spec <- dccspec(multispec(replicate(ncol(x), uspec)), dccOrder = c(1, 1),
                  distribution = "mvnorm")
  fit <- dccfit(spec, data = x, solver = "solnp")
  cf <- coef(fit)
  se <- fit@mfit$matcoef
  c(a = cf[["[Joint]dcca1"]], b = cf[["[Joint]dccb1"]],
    se_a = se["[Joint]dcca1", " Std. Error"], se_b = se["[Joint]dccb1", " Std. Error"],
    loglik = likelihood(fit))
}
out <- rbind(N5 = fit_one(r[, 1:5]), N20 = fit_one(r))
write.csv(out, "rmgarch_results.csv")
print(out, digits = 10)
