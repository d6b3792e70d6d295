"""Policy checks and the review report (issue 6). See docs/policy.md."""
