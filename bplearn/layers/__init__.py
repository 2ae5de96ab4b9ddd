"""Vector layers, one concept per module, each with an explicit backward."""
