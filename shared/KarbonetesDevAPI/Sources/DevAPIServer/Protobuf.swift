import Foundation
import KarbonetesModels

/// Reads the one protobuf body kubectl sends that matters for a demo: `kubectl create
/// namespace` (kubectl's typed commands send `application/vnd.kubernetes.protobuf`). The
/// envelope is `k8s\0` then a `runtime.Unknown`; the Namespace's name, generateName, labels,
/// annotations and spec.finalizers are read, and any other field or kind is refused (415) rather
/// than half-read, so nothing a client sends is silently dropped.
enum KubernetesProtobuf {
    static let contentType = "application/vnd.kubernetes.protobuf"

    static func decode(_ data: Data) -> Result<JSONValue, StoreErrorMessage> {
        let bytes = [UInt8](data)
        guard bytes.count > 4, bytes[0..<4] == [0x6b, 0x38, 0x73, 0x00] else { return .failure(StoreErrorMessage("not a Kubernetes protobuf envelope")) }
        guard let unknown = Message(bytes[4...]) else { return .failure(StoreErrorMessage("malformed protobuf envelope")) }
        let typeMeta = unknown.messages(1).first
        let apiVersion = typeMeta?.strings(1).first ?? ""
        let kind = typeMeta?.strings(2).first ?? ""
        guard kind == "Namespace", apiVersion == "v1" else {
            return .failure(StoreErrorMessage("protobuf bodies are read only for Namespaces; send \(kind.isEmpty ? "this object" : kind) as JSON (kubectl apply -f or create -f)"))
        }
        guard let raw = unknown.fields[2]?.first, case .bytes(let objectBytes) = raw, let namespace = Message(objectBytes[...]) else {
            return .failure(StoreErrorMessage("the protobuf envelope has no object"))
        }
        guard namespace.fields.keys.allSatisfy([1, 2, 3].contains) else {
            return .failure(StoreErrorMessage("unsupported Namespace protobuf fields \(namespace.fields.keys.sorted())"))
        }
        var metadata: [String: JSONValue] = [:]
        if let meta = namespace.messages(1).first {
            // Go writes every scalar field, empty or zero; 4-8 (selfLink, uid, resourceVersion,
            // generation, creationTimestamp) are set by the server anyway.
            guard meta.fields.allSatisfy({ [1, 2, 3, 11, 12].contains($0.key) || (4...8).contains($0.key) && $0.value.allSatisfy(\.isEmpty) || $0.key == 8 }) else {
                return .failure(StoreErrorMessage("unsupported ObjectMeta protobuf fields \(meta.fields.keys.sorted())"))
            }
            if let name = meta.strings(1).first { metadata["name"] = .string(name) }
            if let generateName = meta.strings(2).first { metadata["generateName"] = .string(generateName) }
            for (field, key) in [(11, "labels"), (12, "annotations")] {
                var map: [String: JSONValue] = [:]
                for entry in meta.messages(field) { map[entry.strings(1).first ?? ""] = .string(entry.strings(2).first ?? "") }
                if !map.isEmpty { metadata[key] = .object(map) }
            }
        }
        var object: [String: JSONValue] = ["apiVersion": "v1", "kind": "Namespace", "metadata": .object(metadata)]
        if let spec = namespace.messages(2).first {
            let finalizers = spec.strings(1)
            if !finalizers.isEmpty { object["spec"] = ["finalizers": .array(finalizers.map(JSONValue.string))] }
        }
        return .success(.object(object))
    }

    /// A decoded message: field number to values (varints or length-delimited bytes).
    struct Message {
        enum Value {
            case varint(UInt64)
            case bytes([UInt8])

            /// Zero or empty: what Go writes for an unset scalar.
            var isEmpty: Bool {
                switch self {
                case .varint(let value): value == 0
                case .bytes(let bytes): bytes.isEmpty
                }
            }
        }

        var fields: [Int: [Value]] = [:]

        init?(_ bytes: ArraySlice<UInt8>) {
            var index = bytes.startIndex
            func varint() -> UInt64? {
                var result: UInt64 = 0
                var shift: UInt64 = 0
                while index < bytes.endIndex, shift < 64 {
                    let byte = bytes[index]
                    index += 1
                    result |= UInt64(byte & 0x7f) << shift
                    if byte & 0x80 == 0 { return result }
                    shift += 7
                }
                return nil
            }
            while index < bytes.endIndex {
                guard let key = varint() else { return nil }
                let field = Int(key >> 3)
                switch key & 7 {
                case 0:
                    guard let value = varint() else { return nil }
                    fields[field, default: []].append(.varint(value))
                case 2:
                    guard let length = varint(), length <= UInt64(bytes.endIndex - index) else { return nil }
                    let end = index + Int(length)
                    fields[field, default: []].append(.bytes(Array(bytes[index..<end])))
                    index = end
                default:
                    return nil
                }
            }
        }

        func strings(_ field: Int) -> [String] {
            (fields[field] ?? []).compactMap { if case .bytes(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
        }

        func messages(_ field: Int) -> [Message] {
            (fields[field] ?? []).compactMap { if case .bytes(let bytes) = $0 { Message(bytes[...]) } else { nil } }
        }
    }
}

/// A reason a body could not be read, turned into a 415 by the handler.
struct StoreErrorMessage: Error, ExpressibleByStringLiteral, CustomStringConvertible {
    let description: String
    init(stringLiteral value: String) { description = value }
    init(_ value: String) { description = value }
}
