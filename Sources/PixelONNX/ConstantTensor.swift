import Foundation
import PixelNN
import PixelTensor

/// An initializer or `Constant` value: its ONNX shape and its elements, as `Float` for the
/// floating-point types and as `Int64` for the integer ones (shapes, axes, pads).
struct ConstantTensor {
  var dims: [Int]
  var floats: [Float]
  var integers: [Int64]?

  var count: Int { floats.count }

  /// A float constant of shape `dims`.
  init(dims: [Int], floats: [Float]) { self.dims = dims; self.floats = floats; integers = nil }

  /// The tensor of this constant (float types only).
  var tensor: Tensor { Tensor(floats, shape: Shape(dims)) }

  /// Decodes `proto`, reading external data through `external`; sizes are checked before
  /// anything is allocated.
  init(_ proto: Onnx_TensorProto, name: String, external: ExternalData) throws {
    func refuse(_ reason: String) -> ONNXError { .tensorData(file: external.modelFile, tensor: name, reason: reason) }
    guard !proto.hasSegment else { throw refuse("segmented tensors are not supported") }
    var count = 1
    for d in proto.dims {
      guard d >= 0, d <= Int64(LayerBuildContext.maximumExtent) else { throw refuse("extent \(d) is out of range") }
      let (p, overflow) = count.multipliedReportingOverflow(by: Int(d))
      guard !overflow, p <= LayerBuildContext.maximumElements else {
        throw refuse("shape \(proto.dims) exceeds \(LayerBuildContext.maximumElements) elements")
      }
      count = p
    }
    dims = proto.dims.map { Int($0) }
    let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) ?? .undefined
    let width: Int
    switch type {
    case .float, .int32: width = 4
    case .double, .int64: width = 8
    case .float16, .bfloat16: width = 2
    default: throw refuse("data type \(type) (\(proto.dataType)) is not supported (float, double, float16, bfloat16, int32, int64 are)")
    }
    var bytes: Data?
    if proto.dataLocation == .external {
      var location: String?, offset = 0, length: Int?
      for entry in proto.externalData {
        switch entry.key {
        case "location": location = entry.value
        case "offset":
          guard let v = Int(entry.value), v >= 0 else { throw refuse("external data offset '\(entry.value)' is not a byte count") }
          offset = v
        case "length":
          guard let v = Int(entry.value), v >= 0 else { throw refuse("external data length '\(entry.value)' is not a byte count") }
          length = v
        default: continue
        }
      }
      guard let location else { throw refuse("external data has no location") }
      let expected = count * width
      if let length, length != expected {
        throw refuse("external data length \(length) does not match its shape \(dims) (\(expected) bytes)")
      }
      bytes = try external.read(tensor: name, location: location, offset: offset, length: expected)
    } else if proto.hasRawData {
      bytes = proto.rawData
    }
    if let raw = bytes {
      guard raw.count == count * width else {
        throw refuse("raw data holds \(raw.count) bytes, its shape \(dims) needs \(count * width)")
      }
      (floats, integers) = raw.withUnsafeBytes { Self.decode($0, type: type, count: count) }
      return
    }
    switch type {
    case .float where proto.floatData.count == count: floats = proto.floatData; integers = nil
    case .double where proto.doubleData.count == count: floats = proto.doubleData.map(Float.init); integers = nil
    case .int64 where proto.int64Data.count == count: integers = proto.int64Data; floats = integers!.map(Float.init)
    case .int32 where proto.int32Data.count == count: integers = proto.int32Data.map(Int64.init); floats = integers!.map(Float.init)
    case .float16 where proto.int32Data.count == count, .bfloat16 where proto.int32Data.count == count:
      let bits = proto.int32Data.map { UInt16(truncatingIfNeeded: $0) }
      floats = bits.map { type == .float16 ? Float(Float16(bitPattern: $0)) : Float(bitPattern: UInt32($0) << 16) }
      integers = nil
    default:
      throw refuse("holds no data of its type \(type) for its shape \(dims) (\(count) elements)")
    }
  }

  /// Little-endian elements of `type`.
  static func decode(_ raw: UnsafeRawBufferPointer, type: Onnx_TensorProto.DataType, count: Int) -> ([Float], [Int64]?) {
    switch type {
    case .float:
      return ((0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }, nil)
    case .double:
      return ((0..<count).map {
        Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
      }, nil)
    case .float16:
      return ((0..<count).map {
        Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))))
      }, nil)
    case .bfloat16:
      return ((0..<count).map {
        Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16)
      }, nil)
    case .int32:
      let v = (0..<count).map { Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
      return (v.map(Float.init), v)
    default:
      let v = (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
      return (v.map(Float.init), v)
    }
  }
}
