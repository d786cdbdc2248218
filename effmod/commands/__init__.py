"""What the CLI runs, one module (or package) per command: export, validate, quantize_report, bench,
sweep, package, train, doctor. Commands sit above the libraries (targets, quantize, deploy, models)
and may call each other's public functions (sweep calls ``export.export_one``)."""
