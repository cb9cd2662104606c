//! The shopbridge hub: incremental sync of platform data into the store.
