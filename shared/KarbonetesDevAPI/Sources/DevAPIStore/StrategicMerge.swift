public import KarbonetesModels

/// An approximation of Kubernetes' strategic merge patch, enough for what `kubectl apply`,
/// `kubectl patch` and `kubectl label` send for the resources this server holds.
///
/// It is RFC 7386 merge patch, plus: lists of objects that all carry a `name` (containers,
/// env, volumes, volumeMounts, ports with names) merge element by element on `name`, as their
/// `patchMergeKey` says in the real schema; `$patch: delete` removes such an element, and
/// `$patch: replace` replaces a whole object; the `$setElementOrder/…`, `$retainKeys` and
/// `$deleteFromPrimitiveList/…` directives are read (order and deletions) rather than stored.
/// Lists without names (tolerations, args) are replaced, which is what their real schema
/// does too for the fields this project uses.
public enum StrategicMerge {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(var patchMembers) = patch else { return patch }
        if patchMembers["$patch"]?.stringValue == "replace" {
            patchMembers.removeValue(forKey: "$patch")
            return .object(patchMembers)
        }
        var members = target.objectValue ?? [:]
        var orders: [String: [JSONValue]] = [:]
        for (key, value) in patchMembers {
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removed = Set(value.arrayValue ?? [])
                if let list = members[field]?.arrayValue {
                    members[field] = .array(list.filter { !removed.contains($0) })
                }
                continue
            }
            if key == "$retainKeys" || key == "$patch" { continue }
            switch value {
            case .null:
                members.removeValue(forKey: key)
            case .object:
                members[key] = apply(value, to: members[key] ?? .object([:]))
            case .array(let elements):
                members[key] = mergeList(elements, into: members[key]?.arrayValue)
            default:
                members[key] = value
            }
        }
        for (field, order) in orders {
            guard let list = members[field]?.arrayValue, isNamedList(list) else { continue }
            let rank = Dictionary(
                order.enumerated().compactMap { offset, element in element["name"]?.stringValue.map { ($0, offset) } },
                uniquingKeysWith: { first, _ in first })
            members[field] = .array(
                list.enumerated().sorted { lhs, rhs in
                    let left = lhs.element["name"]?.stringValue.flatMap { rank[$0] } ?? Int.max
                    let right = rhs.element["name"]?.stringValue.flatMap { rank[$0] } ?? Int.max
                    return left == right ? lhs.offset < rhs.offset : left < right
                }.map(\.element))
        }
        return .object(members)
    }

    private static func isNamedList(_ list: [JSONValue]) -> Bool {
        !list.isEmpty && list.allSatisfy { $0["name"]?.stringValue != nil }
    }

    private static func mergeList(_ patch: [JSONValue], into existing: [JSONValue]?) -> JSONValue {
        guard let existing, isNamedList(patch), existing.allSatisfy({ $0["name"]?.stringValue != nil }) else {
            return .array(patch.filter { $0["$patch"] == nil })
        }
        var result = existing
        for element in patch {
            guard let name = element["name"]?.stringValue else { continue }
            let index = result.firstIndex { $0["name"]?.stringValue == name }
            if element["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
            } else if let index {
                result[index] = apply(element, to: result[index])
            } else {
                result.append(apply(element, to: .object([:])))
            }
        }
        return .array(result)
    }
}
