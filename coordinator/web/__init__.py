"""What the two HTTP front ends (the API and the dashboard) share: errors as status codes."""
