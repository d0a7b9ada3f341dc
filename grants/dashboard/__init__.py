"""The overview (Översikt): each person's next steps, and what awaits their decision."""
