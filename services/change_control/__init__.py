"""Project change control: Requests for Change, projects, their workflow and chasing."""
