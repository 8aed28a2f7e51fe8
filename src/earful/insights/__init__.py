"""Metrics from the event log: dashboards, fairness, alerts, scorecard, exports."""
