"""Cash-on-delivery reconciliation: carriers' payout statements matched to shipments."""
