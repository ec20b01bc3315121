"""Stack backends: bring ServiceDesk up, hand back endpoints, bring it down."""
