//! The VOP client against the VOP sandbox over loopback HTTP.

mod support;

mod faults;
mod gateway;
mod jit;
mod oauth;
mod quotas;
mod union;
