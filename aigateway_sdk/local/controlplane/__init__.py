"""The control plane, `/client/v4/accounts/{account_id}/...`: gateways and logs APIs."""
