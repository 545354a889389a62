//! placeholder
pub fn run(_w: &std::path::Path, _s: usize, _j: bool) -> Result<(), Box<dyn std::error::Error>> {
    Ok(())
}
