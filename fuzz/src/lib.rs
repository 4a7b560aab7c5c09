//! Generators and oracles shared by the fuzz targets.
#![forbid(unsafe_code)]
