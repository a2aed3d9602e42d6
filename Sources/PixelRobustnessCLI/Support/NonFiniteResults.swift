/// Results that were computed but are not meaningful (NaN or ±∞): reported, then the command
/// exits non-zero so that scripts notice.
struct NonFiniteResults: Error, CustomStringConvertible {
  let description: String
}
