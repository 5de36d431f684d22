"""Working-day calendars: chinese-calendar overlaid by override files. Knows only dates."""
