"""Parameter sets of the venue methodologies, one dated YAML file each."""
