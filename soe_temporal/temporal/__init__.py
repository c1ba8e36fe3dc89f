"""What crosses Temporal: payload shapes (durable contracts), the data converter, JSON
carriage rules and activity options."""
