"""Payment providers: Stripe Checkout through the official library."""
