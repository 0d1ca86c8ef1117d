public import KarbonetesModels

/// Reading and writing nested members by key path, which the store does on every write
/// (metadata, spec, status) of objects it keeps as raw JSON so that no field is lost.
extension JSONValue {
    /// The member at `path` (object keys only), or nil when any step is missing.
    func value(at path: [String]) -> JSONValue? {
        var node = self
        for key in path {
            guard let next = node[key] else { return nil }
            node = next
        }
        return node
    }

    /// Sets the member at `path`, creating objects on the way; `nil` removes it.
    mutating func setValue(_ value: JSONValue?, at path: [String]) {
        guard let first = path.first else {
            self = value ?? .null
            return
        }
        var members = objectValue ?? [:]
        if path.count == 1 {
            members[first] = value
        } else {
            var child = members[first] ?? .object([:])
            if child.objectValue == nil { child = .object([:]) }
            child.setValue(value, at: Array(path.dropFirst()))
            members[first] = child
        }
        self = .object(members)
    }

    func string(at path: [String]) -> String? { value(at: path)?.stringValue }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The object's `metadata.labels` as strings (non-string values are skipped).
    public var labels: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in value(at: ["metadata", "labels"])?.objectValue ?? [:] {
            if let text = value.stringValue { result[key] = text }
        }
        return result
    }

    /// A copy without the members at `paths` (and parents left empty by that), for
    /// comparing two objects outside some fields.
    func removing(_ paths: [[String]]) -> JSONValue {
        var copy = self
        for path in paths where copy.value(at: path) != nil {
            copy.setValue(nil, at: path)
            var parent = Array(path.dropLast())
            while !parent.isEmpty, copy.value(at: parent)?.objectValue?.isEmpty == true {
                copy.setValue(nil, at: parent)
                parent.removeLast()
            }
        }
        return copy
    }
}
