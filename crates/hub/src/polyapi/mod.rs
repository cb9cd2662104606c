//! The polyapi-compatible unified endpoint.

pub mod sign;
