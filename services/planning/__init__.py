"""The annual service-planning cycle: cycles, service plans, sign-off, loading for monitoring."""
