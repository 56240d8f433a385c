//! A wasm module that implements no kith world: hosts must refuse it.

#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
