"""One home per rule (issue 9): each test drives one rule through two or more of its callers."""
