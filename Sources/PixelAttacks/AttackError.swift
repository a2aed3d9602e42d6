/// A threat model or mask that cannot be used; the message says what is wrong.
public enum AttackError: Error, Equatable, CustomStringConvertible {
  case invalidEpsilon(Float)
  case invalidStep(String)
  case emptyMask(String)
  case maskShape(expected: [Int], got: [Int])
  case invalidMaskSpec(String)

  public var description: String {
    switch self {
    case .invalidEpsilon(let e): return "epsilon must be a finite number ≥ 0 (pixel units in [0, 1]), got \(e)"
    case .invalidStep(let r): return "invalid attack settings: \(r)"
    case .emptyMask(let what): return "the mask \(what) selects no pixel: the attack could change nothing"
    case let .maskShape(e, g): return "mask shape \(g) does not fit images \(e)"
    case .invalidMaskSpec(let r): return "invalid mask: \(r)"
    }
  }
}
