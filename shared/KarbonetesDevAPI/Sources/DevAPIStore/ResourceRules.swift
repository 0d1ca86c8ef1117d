import Foundation
import KarbonetesModels

/// The per-resource rules of the real API server that code in this project depends on:
/// defaults and validation on create, immutability on update. Pure functions of objects.
enum ResourceRules {
    // MARK: Jobs

    static let controllerUIDLabel = "batch.kubernetes.io/controller-uid"
    static let legacyControllerUIDLabel = "controller-uid"
    static let jobNameLabel = "batch.kubernetes.io/job-name"
    static let legacyJobNameLabel = "job-name"

    /// Defaults, the generated selector and the template labels, as the Job strategy sets them.
    static func prepareJobCreate(_ job: inout JSONValue, uid: String, name: String) throws(StoreError) {
        try validateJobTemplate(job, name: name)
        // The batch/v1 defaulting: a Job without labels takes its template's (before the
        // generated ones are added to the template).
        if (job.value(at: ["metadata", "labels"])?.objectValue ?? [:]).isEmpty,
            let templateLabels = job.value(at: ["spec", "template", "metadata", "labels"]), !(templateLabels.objectValue ?? [:]).isEmpty
        {
            job.setValue(templateLabels, at: ["metadata", "labels"])
        }
        var spec = job["spec"] ?? .object([:])
        if spec["parallelism"] == nil { spec.setValue(1, at: ["parallelism"]) }
        if spec["completions"] == nil, spec["completionMode"]?.stringValue != "Indexed" {
            spec.setValue(1, at: ["completions"])
        }
        if spec["backoffLimit"] == nil { spec.setValue(6, at: ["backoffLimit"]) }
        if spec["completionMode"] == nil { spec.setValue("NonIndexed", at: ["completionMode"]) }
        if spec["suspend"] == nil { spec.setValue(false, at: ["suspend"]) }
        if spec["manualSelector"]?.boolValue != true {
            spec.setValue(.object(["matchLabels": .object([controllerUIDLabel: .string(uid)])]), at: ["selector"])
            var labels = spec.value(at: ["template", "metadata", "labels"])?.objectValue ?? [:]
            labels[controllerUIDLabel] = .string(uid)
            labels[legacyControllerUIDLabel] = .string(uid)
            labels[jobNameLabel] = .string(name)
            labels[legacyJobNameLabel] = .string(name)
            spec.setValue(.object(labels), at: ["template", "metadata", "labels"])
        }
        job.setValue(spec, at: ["spec"])
        job.setValue(.object([:]), at: ["status"])
    }

    static func validateJobTemplate(_ job: JSONValue, name: String) throws(StoreError) {
        guard let template = job.value(at: ["spec", "template"]), template.objectValue != nil else {
            throw .invalid(.jobs, name: name, field: "spec.template", message: "Required value")
        }
        guard let containers = template.value(at: ["spec", "containers"])?.arrayValue, !containers.isEmpty else {
            throw .invalid(.jobs, name: name, field: "spec.template.spec.containers", message: "Required value")
        }
        let restartPolicy = template.string(at: ["spec", "restartPolicy"]) ?? ""
        guard restartPolicy == "Never" || restartPolicy == "OnFailure" else {
            throw .invalid(
                .jobs, name: name, field: "spec.template.spec.restartPolicy",
                message: "Unsupported value: \"\(restartPolicy)\": supported values: \"OnFailure\", \"Never\"")
        }
    }

    /// The template paths a Job may change, and only while it is suspended and has never
    /// started: what Kueue and this project's controller change before releasing a Job.
    static let mutableSchedulingPaths: [[String]] = [
        ["metadata", "labels"], ["metadata", "annotations"], ["spec", "nodeSelector"], ["spec", "tolerations"],
        ["spec", "affinity", "nodeAffinity"], ["spec", "schedulingGates"],
    ]

    static func validateJobUpdate(old: JSONValue, new: JSONValue, name: String) throws(StoreError) {
        if old.value(at: ["spec", "selector"]) != new.value(at: ["spec", "selector"]) {
            throw .invalid(.jobs, name: name, field: "spec.selector", message: "Invalid value: field is immutable")
        }
        if old.value(at: ["spec", "completionMode"]) != new.value(at: ["spec", "completionMode"]) {
            throw .invalid(.jobs, name: name, field: "spec.completionMode", message: "Invalid value: field is immutable")
        }
        let oldTemplate = old.value(at: ["spec", "template"]) ?? .null
        let newTemplate = new.value(at: ["spec", "template"]) ?? .null
        if oldTemplate != newTemplate {
            let schedulingMutable =
                old.value(at: ["spec", "suspend"])?.boolValue == true && old.value(at: ["status", "startTime"]) == nil
            let comparedOld = schedulingMutable ? oldTemplate.removing(mutableSchedulingPaths) : oldTemplate
            let comparedNew = schedulingMutable ? newTemplate.removing(mutableSchedulingPaths) : newTemplate
            if comparedOld != comparedNew {
                let path = firstDifference(comparedOld, comparedNew).map { "." + $0.joined(separator: ".") } ?? ""
                throw .invalid(
                    .jobs, name: name, field: "spec.template",
                    message: "Invalid value: spec.template\(path) changed: field is immutable")
            }
        }
        try validateJobTemplate(new, name: name)
        let selector = try LabelSelector(object: new.value(at: ["spec", "selector"]))
        var templateLabels: [String: String] = [:]
        for (key, value) in new.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:] {
            templateLabels[key] = value.stringValue
        }
        if !selector.matches(templateLabels) {
            throw .invalid(
                .jobs, name: name, field: "spec.template.metadata.labels",
                message: "Invalid value: `selector` does not match template `labels`")
        }
    }

    /// The first key path where two values differ, for messages that say what changed.
    static func firstDifference(_ lhs: JSONValue, _ rhs: JSONValue, path: [String] = []) -> [String]? {
        if lhs == rhs { return nil }
        guard case .object(let left) = lhs, case .object(let right) = rhs else { return path }
        for key in Set(left.keys).union(right.keys).sorted() where left[key] != right[key] {
            return firstDifference(left[key] ?? .null, right[key] ?? .null, path: path + [key])
        }
        return path
    }

    // MARK: CronJobs

    static func prepareCronJobCreate(_ cronJob: inout JSONValue, name: String) throws(StoreError) {
        try validateCronJob(cronJob, name: name)
        var spec = cronJob["spec"] ?? .object([:])
        if spec["concurrencyPolicy"] == nil { spec.setValue("Allow", at: ["concurrencyPolicy"]) }
        if spec["suspend"] == nil { spec.setValue(false, at: ["suspend"]) }
        if spec["successfulJobsHistoryLimit"] == nil { spec.setValue(3, at: ["successfulJobsHistoryLimit"]) }
        if spec["failedJobsHistoryLimit"] == nil { spec.setValue(1, at: ["failedJobsHistoryLimit"]) }
        cronJob.setValue(spec, at: ["spec"])
        cronJob.setValue(.object([:]), at: ["status"])
    }

    static func validateCronJob(_ cronJob: JSONValue, name: String) throws(StoreError) {
        guard let schedule = cronJob.string(at: ["spec", "schedule"]), !schedule.isEmpty else {
            throw .invalid(.cronJobs, name: name, field: "spec.schedule", message: "Required value")
        }
        guard cronJob.value(at: ["spec", "jobTemplate"])?.objectValue != nil else {
            throw .invalid(.cronJobs, name: name, field: "spec.jobTemplate", message: "Required value")
        }
    }

    // MARK: CustomResourceDefinitions

    static func validateDefinition(_ definition: JSONValue, name: String) throws(StoreError) {
        let type = ResourceType.customResourceDefinitions
        guard let group = definition.string(at: ["spec", "group"]), !group.isEmpty else {
            throw .invalid(type, name: name, field: "spec.group", message: "Required value")
        }
        guard let plural = definition.string(at: ["spec", "names", "plural"]), !plural.isEmpty else {
            throw .invalid(type, name: name, field: "spec.names.plural", message: "Required value")
        }
        guard definition.string(at: ["spec", "names", "kind"]) != nil else {
            throw .invalid(type, name: name, field: "spec.names.kind", message: "Required value")
        }
        guard ["Namespaced", "Cluster"].contains(definition.string(at: ["spec", "scope"]) ?? "") else {
            throw .invalid(type, name: name, field: "spec.scope", message: "Unsupported value: supported values: \"Cluster\", \"Namespaced\"")
        }
        guard name == "\(plural).\(group)" else {
            throw .invalid(
                type, name: name, field: "metadata.name",
                message: "Invalid value: \"\(name)\": must be spec.names.plural+\".\"+spec.group")
        }
        guard !(definition.value(at: ["spec", "versions"])?.arrayValue ?? []).isEmpty else {
            throw .invalid(type, name: name, field: "spec.versions", message: "Required value")
        }
    }

    /// The status the real server's controllers write within a second of a CRD's creation.
    static func definitionStatus(_ definition: JSONValue, now: Date) -> JSONValue {
        let time = JSONValue.string(RFC3339.format(now))
        let stored = (definition.value(at: ["spec", "versions"])?.arrayValue ?? []).compactMap { version -> JSONValue? in
            version["storage"]?.boolValue == true ? version["name"] : nil
        }
        return [
            "acceptedNames": definition.value(at: ["spec", "names"]) ?? .object([:]),
            "conditions": [
                [
                    "type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                    "message": "no conflicts found", "lastTransitionTime": time,
                ],
                [
                    "type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted", "lastTransitionTime": time,
                ],
            ],
            "storedVersions": .array(stored),
        ]
    }

    // MARK: Names

    /// A DNS-1123 subdomain, as most object names must be.
    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253, let first = name.first, let last = name.last else { return false }
        let allowed = name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }
        return allowed && (first.isLowercase || first.isNumber) && (last.isLowercase || last.isNumber)
    }
}
