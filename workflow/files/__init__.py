"""Reading and writing the files an office really has (CSV, XLSX)."""
