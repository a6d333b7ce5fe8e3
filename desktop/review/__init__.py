"""The review queue: data (no Qt), the lazy model, the flow controller and the panel."""
