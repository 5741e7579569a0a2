"""What the user gives reportgen: profiles (YAML), fill-in workbooks, last year's report."""
