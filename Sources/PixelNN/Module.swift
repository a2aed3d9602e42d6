import PixelTensor

/// One thing a module holds directly, with its local name.
public enum ModuleMember {
  case parameter(String, Parameter)
  case buffer(String, Buffer)
  case module(String, any Module)
}

/// A node of a model tree: parameters, buffers and child modules with dotted paths that match
/// PyTorch's `state_dict` names (`"blocks.0.conv1.weight"`).
///
/// The default ``members`` walks the stored properties with `Mirror`: `Parameter`, `Buffer`,
/// `Module` and `[Module]` (indexed) properties are found by their labels, optionals included;
/// labels starting with `_` are skipped. Containers such as ``Sequential`` name their children
/// themselves.
public protocol Module: AnyObject {
  /// This module's own mode; use ``Module/setMode(_:)`` to change a whole tree.
  var mode: Mode { get set }
  /// The parameters, buffers and modules held directly.
  var members: [ModuleMember] { get }
}

extension Module {
  public var members: [ModuleMember] {
    Mirror(reflecting: self).children.flatMap { child -> [ModuleMember] in
      guard let label = child.label, !label.hasPrefix("_") else { return [] }
      return reflectedMembers(label, child.value)
    }
  }

  /// Every parameter of the tree with its dotted path, in declaration order.
  public var namedParameters: [(name: String, parameter: Parameter)] {
    var out: [(String, Parameter)] = []
    visit(prefix: "") { name, member in
      if case .parameter(_, let p) = member { out.append((name, p)) }
    }
    return out
  }

  /// Every buffer of the tree with its dotted path.
  public var namedBuffers: [(name: String, buffer: Buffer)] {
    var out: [(String, Buffer)] = []
    visit(prefix: "") { name, member in
      if case .buffer(_, let b) = member { out.append((name, b)) }
    }
    return out
  }

  /// Parameters and buffers by path: what a checkpoint holds.
  public var stateTensors: [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (n, p) in namedParameters { out[n] = p.value.detached() }
    for (n, b) in namedBuffers { out[n] = b.value }
    return out
  }

  /// The number of trainable scalars.
  public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.elementCount } }

  /// Sets `mode` on this module and every module below it.
  public func setMode(_ mode: Mode) {
    self.mode = mode
    for case .module(_, let child) in members { child.setMode(mode) }
  }

  /// Runs `body` with the whole tree in `mode`, then gives every module back its own previous
  /// mode (a tree with frozen parts in inference mode stays that way).
  public func withMode<R>(_ mode: Mode, _ body: () throws -> R) rethrows -> R {
    var modules: [any Module] = []
    func collect(_ m: any Module) {
      modules.append(m)
      for case .module(_, let child) in m.members { collect(child) }
    }
    collect(self)
    let previous = modules.map(\.mode)
    setMode(mode)
    defer { for (m, p) in zip(modules, previous) { m.mode = p } }
    return try body()
  }

  private func visit(prefix: String, _ body: (String, ModuleMember) -> Void) {
    for member in members {
      switch member {
      case .parameter(let n, _), .buffer(let n, _):
        body(prefix + n, member)
      case .module(let n, let child):
        child.visit(prefix: n.isEmpty ? prefix : prefix + n + ".", body)
      }
    }
  }
}

private func reflectedMembers(_ label: String, _ value: Any) -> [ModuleMember] {
  if let p = value as? Parameter { return [.parameter(label, p)] }
  if let b = value as? Buffer { return [.buffer(label, b)] }
  if let m = value as? any Module { return [.module(label, m)] }
  if let list = value as? [any Module] {
    return list.enumerated().map { .module("\(label).\($0.offset)", $0.element) }
  }
  return []
}

/// A module that maps a batch to a batch.
public protocol Layer: Module {
  /// Applies the layer with differentiable `Tensor` operations only.
  func callAsFunction(_ x: Tensor) -> Tensor
  /// Whether, in the current mode, output row `n` is a deterministic function of input row `n`
  /// alone, computed with the same bits whatever the batch: then a batch may be split into
  /// blocks of rows run apart (``Model`` does so on the cores). `false` by default; batch norm in
  /// training mode (batch statistics) and layers that draw random numbers are not.
  var isSamplewise: Bool { get }
}

extension Layer {
  public var isSamplewise: Bool { false }
}
