"""Reviewing predictions: the model runner and its cache, class mapping, accept rules, metrics."""
