"""Use cases: check permission, write state and events in one transaction, publish after."""
