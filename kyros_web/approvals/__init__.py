"""What waits for someone's decision (issue 17, item 3): requests to move open to buy."""
