"""The standing attack suite: one test per reproduced finding, plus the categories behind them."""
