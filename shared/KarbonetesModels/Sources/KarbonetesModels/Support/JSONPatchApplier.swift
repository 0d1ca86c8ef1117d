/// Applies RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch documents to JSON values.
///
/// The local API server applies clients' patches with these, and tests apply the webhook's
/// and controller's patches to raw objects with them, so both sides of the wire share one
/// reading of the RFCs.
public enum JSONPatchApplier {
    /// Applies the ops in order; the first one that fails fails the whole patch (nothing is
    /// half-applied: the input is a value).
    public static func apply(_ operations: [JSONPatchOperation], to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            guard let path = JSONPointer(parsing: operation.path) else {
                throw .invalidPointer(operation.path, index: index)
            }
            switch operation.op {
            case .add:
                result = try add(operation.value ?? .null, at: path, in: result, index: index)
            case .remove:
                result = try remove(at: path, in: result, index: index).document
            case .replace:
                _ = try value(at: path, in: result, index: index)
                result = try remove(at: path, in: result, index: index).document
                result = try add(operation.value ?? .null, at: path, in: result, index: index)
            case .test:
                let actual = try value(at: path, in: result, index: index)
                guard actual == (operation.value ?? .null) else { throw .testFailed(operation.path, index: index) }
            case .move, .copy:
                guard let fromText = operation.from, let from = JSONPointer(parsing: fromText) else {
                    throw .invalidPointer(operation.from ?? "", index: index)
                }
                let moved: JSONValue
                if operation.op == .move {
                    let removal = try remove(at: from, in: result, index: index)
                    moved = removal.removed
                    result = removal.document
                } else {
                    moved = try value(at: from, in: result, index: index)
                }
                result = try add(moved, at: path, in: result, index: index)
            }
        }
        return result
    }

    /// RFC 7386: objects merge recursively, `null` deletes a member, anything else replaces.
    public static func mergePatch(_ patch: JSONValue, onto target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members = target.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                members.removeValue(forKey: key)
            } else {
                members[key] = mergePatch(value, onto: members[key] ?? .null)
            }
        }
        return .object(members)
    }

    public static func value(at path: JSONPointer, in document: JSONValue) -> JSONValue? {
        try? value(at: path, in: document, index: 0)
    }

    private static func value(at path: JSONPointer, in document: JSONValue, index: Int) throws(JSONPatchError) -> JSONValue {
        var node = document
        for token in path.tokens {
            switch node {
            case .object(let members):
                guard let next = members[token] else { throw .missingPath(path.description, index: index) }
                node = next
            case .array(let elements):
                guard let position = arrayIndex(token), position < elements.count else { throw .missingPath(path.description, index: index) }
                node = elements[position]
            default:
                throw .missingPath(path.description, index: index)
            }
        }
        return node
    }

    private static func add(_ value: JSONValue, at path: JSONPointer, in document: JSONValue, index: Int) throws(JSONPatchError) -> JSONValue {
        guard let last = path.tokens.last else { return value }
        let parentPath = JSONPointer(tokens: Array(path.tokens.dropLast()))
        return try update(at: parentPath, in: document, index: index) { parent throws(JSONPatchError) in
            switch parent {
            case .object(var members):
                members[last] = value
                return .object(members)
            case .array(var elements):
                if last == "-" {
                    elements.append(value)
                } else {
                    guard let position = arrayIndex(last), position <= elements.count else {
                        throw .missingPath(path.description, index: index)
                    }
                    elements.insert(value, at: position)
                }
                return .array(elements)
            default:
                throw .missingPath(path.description, index: index)
            }
        }
    }

    private static func remove(at path: JSONPointer, in document: JSONValue, index: Int) throws(JSONPatchError) -> (document: JSONValue, removed: JSONValue) {
        guard let last = path.tokens.last else { throw .missingPath(path.description, index: index) }
        let removed = try value(at: path, in: document, index: index)
        let parentPath = JSONPointer(tokens: Array(path.tokens.dropLast()))
        let updated = try update(at: parentPath, in: document, index: index) { parent throws(JSONPatchError) in
            switch parent {
            case .object(var members):
                members.removeValue(forKey: last)
                return .object(members)
            case .array(var elements):
                guard let position = arrayIndex(last), position < elements.count else { throw .missingPath(path.description, index: index) }
                elements.remove(at: position)
                return .array(elements)
            default:
                throw .missingPath(path.description, index: index)
            }
        }
        return (updated, removed)
    }

    private static func update(at path: JSONPointer, in document: JSONValue, index: Int, _ change: (JSONValue) throws(JSONPatchError) -> JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let first = path.tokens.first else { return try change(document) }
        let rest = JSONPointer(tokens: Array(path.tokens.dropFirst()))
        switch document {
        case .object(var members):
            guard let child = members[first] else { throw .missingPath(path.description, index: index) }
            members[first] = try update(at: rest, in: child, index: index, change)
            return .object(members)
        case .array(var elements):
            guard let position = arrayIndex(first), position < elements.count else { throw .missingPath(path.description, index: index) }
            elements[position] = try update(at: rest, in: elements[position], index: index, change)
            return .array(elements)
        default:
            throw .missingPath(path.description, index: index)
        }
    }

    private static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.allSatisfy(\.isASCII), token.allSatisfy(\.isNumber), token == "0" || !token.hasPrefix("0") else { return nil }
        return Int(token)
    }
}

/// Why a patch could not be applied, naming the op (by its position) and its path.
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Kind: Equatable {
        case invalidPointer(String)
        case missingPath(String)
        case testFailed(String)
    }

    private let kind: Kind
    /// The position of the failing op in the patch.
    public let index: Int

    static func invalidPointer(_ path: String, index: Int) -> JSONPatchError { JSONPatchError(kind: .invalidPointer(path), index: index) }
    static func missingPath(_ path: String, index: Int) -> JSONPatchError { JSONPatchError(kind: .missingPath(path), index: index) }
    static func testFailed(_ path: String, index: Int) -> JSONPatchError { JSONPatchError(kind: .testFailed(path), index: index) }

    /// A `test` op failed: the document was not in the state the patch expected.
    public var isTestFailure: Bool {
        if case .testFailed = kind { return true }
        return false
    }

    public var description: String {
        switch kind {
        case .invalidPointer(let path): return "op \(index): \"\(path)\" is not a JSON pointer"
        case .missingPath(let path): return "op \(index): path \(path) does not exist"
        case .testFailed(let path): return "op \(index): test of \(path) failed"
        }
    }
}
