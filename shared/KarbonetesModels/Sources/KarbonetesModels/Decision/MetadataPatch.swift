/// Builds the ops that set labels and annotations, adding the map itself when the object has
/// none (RFC 6902 cannot add a member to a missing object).
struct MetadataPatch {
    private var labelsExist: Bool
    private var annotationsExist: Bool
    private var pendingLabels: [String: String] = [:]
    private var pendingAnnotations: [String: String] = [:]
    private var labelOrder: [String] = []
    private var annotationOrder: [String] = []

    init(for metadata: ObjectMeta) {
        labelsExist = metadata.labels != nil
        annotationsExist = metadata.annotations != nil
    }

    mutating func setLabel(_ key: String, _ value: String) {
        if pendingLabels.updateValue(value, forKey: key) == nil { labelOrder.append(key) }
    }

    mutating func setAnnotation(_ key: String, _ value: String) {
        if pendingAnnotations.updateValue(value, forKey: key) == nil { annotationOrder.append(key) }
    }

    /// Parsed once: a pointer literal is parsed each time it is evaluated.
    private static let labelsPath: JSONPointer = "/metadata/labels"
    private static let annotationsPath: JSONPointer = "/metadata/annotations"

    var operations: [JSONPatchOperation] {
        ops(path: Self.labelsPath, exists: labelsExist, values: pendingLabels, order: labelOrder)
            + ops(path: Self.annotationsPath, exists: annotationsExist, values: pendingAnnotations, order: annotationOrder)
    }

    private func ops(path: JSONPointer, exists: Bool, values: [String: String], order: [String]) -> [JSONPatchOperation] {
        guard !values.isEmpty else { return [] }
        if !exists {
            return [.add(path, .object(values.mapValues { .string($0) }))]
        }
        return order.map { .add(path.appending($0), .string(values[$0]!)) }
    }
}
