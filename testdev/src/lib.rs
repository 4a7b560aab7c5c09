//! DMA masters that issue tagged transactions through the SMMU model.
#![forbid(unsafe_code)]
