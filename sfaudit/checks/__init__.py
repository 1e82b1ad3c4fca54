"""The built-in readiness checks, one plugin module each, written exactly as a
third-party check would be: notice-deadline, active-users, record-ownership,
scheduled-jobs, license-utilization and backup-completeness."""
