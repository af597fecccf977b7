"""What operators run beside the app: the demo campaign, test blasts, deployment checks."""
