//! Random ids and secrets, from the operating system's generator.

/// A random lower-case hex string of `bytes * 2` characters, from the OS generator.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}
