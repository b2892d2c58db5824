"""The exceptions inbox (issue 17, item 4): what needs a planner's or buyer's attention in a season."""
