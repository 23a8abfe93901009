//! `${NAME}` expansion (src/config/expand.rs) on arbitrary text and
//! variables: never a panic; text without `$` comes back as it is; text
//! with every `$` doubled comes back as the original text (`$$` is a
//! literal `$`); an error is one line.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    text: String,
    vars: Vec<(String, String)>,
}

fuzz_target!(|input: Input| {
    let got = healthprobe::fuzzing::expand(&input.text, &input.vars);
    if !input.text.contains('$') {
        assert_eq!(got.as_deref(), Ok(input.text.as_str()));
    }
    if let Err(line) = &got {
        assert!(!line.is_empty() && !line.contains('\n'), "{line:?}");
    }
    let escaped = input.text.replace('$', "$$");
    assert_eq!(
        healthprobe::fuzzing::expand(&escaped, &input.vars).as_deref(),
        Ok(input.text.as_str())
    );
});
