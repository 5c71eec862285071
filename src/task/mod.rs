//! Tasks: the environments a grown network acts in.
