"""The call's deadline, the application's internal milestones counted back from it, reminders
before each milestone, and a coordinator's extension of one application's deadline."""
