public import Foundation

/// Writes JSON bytes directly, as ``KubernetesJSON/encoder`` would (sorted keys, slashes not
/// escaped, whole numbers without a fraction), for the hot paths where `JSONEncoder` over
/// `Codable` costs more than the work itself: every admission answer and its patch, and the
/// signal service's reading. Tests hold it to `JSONEncoder`'s output byte for byte.
public enum JSONValueWriter {
    public static func data(_ value: JSONValue) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        append(value, to: &bytes)
        return Data(bytes)
    }

    public static func append(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): appendNumber(number, to: &bytes)
        case .string(let text): appendString(text, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                append(element, to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                append(members[key]!, to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A whole number within 2^53 as an integer, any other finite number in its shortest
    /// round-tripping form (`0.5`, `1e+21`), and a non-finite one as `null` (JSON has none).
    public static func appendNumber(_ number: Double, to bytes: inout [UInt8]) {
        if number.rounded() == number, abs(number) < 9.007_199_254_740_992e15 {
            bytes.append(contentsOf: String(Int64(number)).utf8)
        } else if number.isFinite {
            bytes.append(contentsOf: number.description.utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A quoted string: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`
    /// escapes, everything else (slashes and non-ASCII included) as it is.
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var clean = 0
            for (position, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<position]))
                clean = position + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
                case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
                case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    bytes.append(contentsOf: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension [JSONPatchOperation] {
    /// The patch document's bytes, as `KubernetesJSON.encoder.encode(self)` writes them.
    ///
    /// Each operation's members are written in their sorted order directly, without building
    /// a ``JSONValue`` object first (a dictionary per operation, then its keys sorted): every
    /// release sends one of these.
    public var jsonData: Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 * count + 2)
        bytes.append(UInt8(ascii: "["))
        for (index, operation) in enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            operation.appendJSON(to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        return Data(bytes)
    }
}

extension JSONPatchOperation {
    /// The members in sorted key order (`from`, `op`, `path`, `value`), as ``encode(to:)``
    /// through `KubernetesJSON.encoder` writes them.
    func appendJSON(to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "{"))
        if let from {
            bytes.append(contentsOf: #""from":"#.utf8)
            JSONValueWriter.appendString(from, to: &bytes)
            bytes.append(UInt8(ascii: ","))
        }
        bytes.append(contentsOf: #""op":"#.utf8)
        JSONValueWriter.appendString(op.rawValue, to: &bytes)
        bytes.append(contentsOf: #","path":"#.utf8)
        JSONValueWriter.appendString(path, to: &bytes)
        if op.carriesValue {
            bytes.append(contentsOf: #","value":"#.utf8)
            JSONValueWriter.append(value ?? .null, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }
}
