//! placeholder
pub fn run(
    _b: &[crate::corpus::Article],
    _w: &std::path::Path,
    _s: usize,
    _r: usize,
    _j: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}
