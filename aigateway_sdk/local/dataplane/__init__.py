"""The data plane, `/v1/{account_id}/{gateway_id}/...`: request options, wire shapes, replies."""
