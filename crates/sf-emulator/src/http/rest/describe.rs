//! Discovery: resources, limits, describe global and per object.

use super::*;

pub(super) fn resources(req: &Req) -> Reply {
    let v = &req.version;
    let names = [
        "sobjects",
        "query",
        "queryAll",
        "search",
        "limits",
        "composite",
        "jobs",
        "recent",
        "tooling",
        "metadata",
        "analytics",
        "connect",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "process",
    ];
    let map: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), json!(format!("/services/data/v{v}/{n}"))))
        .collect();
    Reply::json(200, Value::Object(map))
}

pub(super) fn limits(shared: &Shared, org: &Org) -> Reply {
    let max = org.settings.daily_api_limit;
    let used = shared.api_used.load(std::sync::atomic::Ordering::Acquire);
    let (bulk_jobs, query_jobs) = {
        let jobs = shared.jobs.lock();
        (jobs.ingest.len() as u64, jobs.query.len() as u64)
    };
    let records: usize = org.tables.iter().map(|t| t.live_count()).sum();
    let data_mb = (records as u64 * 2 / 1024) as i64;
    let pair = |max: i64, remaining: i64| json!({"Max": max, "Remaining": remaining.max(0)});
    Reply::json(
        200,
        json!({
            "ConcurrentAsyncGetReportInstances": pair(200, 200),
            "DailyApiRequests": pair(max as i64, max as i64 - used as i64),
            "DailyAsyncApexExecutions": pair(250000, 250000),
            "DailyBulkApiBatches": pair(15000, 15000 - bulk_jobs as i64),
            "DailyBulkV2QueryFileStorageMB": pair(976562, 976562),
            "DailyBulkV2QueryJobs": pair(10000, 10000 - query_jobs as i64),
            "DailyStreamingApiEvents": pair(10000, 10000),
            "DataStorageMB": pair(1024, 1024 - data_mb),
            "FileStorageMB": pair(20480, 20480),
            "HourlyODataCallout": pair(20000, 20000),
            "SingleEmail": pair(5000, 5000),
        }),
    )
}

pub(super) fn object_urls(name: &str, v: &str) -> Value {
    json!({
        "sobject": format!("/services/data/v{v}/sobjects/{name}"),
        "describe": format!("/services/data/v{v}/sobjects/{name}/describe"),
        "rowTemplate": format!("/services/data/v{v}/sobjects/{name}/{{ID}}"),
    })
}

pub(super) fn global_entry(org: &Org, o: usize, v: &str) -> Value {
    let d = org.def(o);
    let system_only = d.name == "User";
    json!({
        "activateable": false, "associateEntityType": null, "associateParentEntity": null,
        "createable": true, "custom": d.custom, "customSetting": false, "deepCloneable": false,
        "deletable": !system_only, "deprecatedAndHidden": false, "feedEnabled": false,
        "hasSubtypes": false, "isInterface": false, "isSubtype": false,
        "keyPrefix": d.key_prefix, "label": d.label, "labelPlural": d.label_plural,
        "layoutable": true, "mergeable": matches!(d.name.as_str(), "Account" | "Contact" | "Lead" | "Case"),
        "mruEnabled": true, "name": d.name, "queryable": true, "replicateable": true,
        "retrieveable": true, "searchable": true, "triggerable": true, "undeletable": !system_only,
        "updateable": true, "urls": object_urls(&d.name, v),
    })
}

pub(super) fn describe_global(org: &Org, req: &Req) -> Reply {
    let list: Vec<Value> = (0..org.schema.objects.len())
        .map(|o| global_entry(org, o, &req.version))
        .collect();
    Reply::json(
        200,
        json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
    )
}

pub(super) fn sobject_info(org: &Org, o: usize, req: &Req) -> Reply {
    let d = org.def(o);
    let recent: Vec<Value> = org.tables[o]
        .slots
        .iter()
        .rev()
        .flatten()
        .filter(|r| r.deleted_at.is_none())
        .take(5)
        .map(|r| {
            let mut m = json!({"attributes": {"type": d.name, "url": format!("/services/data/v{}/sobjects/{}/{}", req.version, d.name, make_id(&d.key_prefix, r.num))}, "Id": make_id(&d.key_prefix, r.num)});
            if let Some(nf) = d.name_field() {
                m[&d.fields[nf].name] = serde_json::from_str(&render_value(org, o, r, nf)).unwrap_or(Value::Null);
            }
            m
        })
        .collect();
    Reply::json(
        200,
        json!({"objectDescribe": global_entry(org, o, &req.version), "recentItems": recent}),
    )
}

pub(super) fn render_value(org: &Org, o: usize, r: &crate::org::Record, fi: usize) -> String {
    let mut s = String::new();
    crate::query::push_json_val(&mut s, &org.value(o, r, fi), org.def(o).fields[fi].ftype);
    s
}

pub(super) fn describe(org: &Org, o: usize, req: &Req) -> Value {
    let d = org.def(o);
    let fields: Vec<Value> = d
        .fields
        .iter()
        .map(|f| {
            let numeric = f.ftype.is_numeric();
            json!({
                "aggregatable": f.ftype != FieldType::Textarea,
                "autoNumber": f.auto_number.is_some(),
                "byteLength": if f.ftype.is_text() || matches!(f.ftype, FieldType::Id | FieldType::Reference) { f.length * 3 } else { 0 },
                "calculated": f.calculated,
                "calculatedFormula": null,
                "cascadeDelete": false,
                "caseSensitive": false,
                "createable": f.createable,
                "custom": f.custom,
                // Picklist defaults show in picklistValues, not here.
                "defaultValue": match &f.default { Some(crate::values::Val::Bool(b)) => json!(b), _ => Value::Null },
                "defaultValueFormula": null,
                "defaultedOnCreate": f.defaulted_on_create,
                "dependentPicklist": false,
                "deprecatedAndHidden": false,
                "digits": if f.ftype == FieldType::Int { f.precision } else { 0 },
                "externalId": f.external_id,
                "filterable": f.ftype != FieldType::Textarea || f.length <= 255,
                "groupable": !numeric && f.ftype != FieldType::Textarea,
                "htmlFormatted": false,
                "idLookup": f.id_lookup,
                "inlineHelpText": null,
                "label": f.label,
                "length": if f.ftype.is_text() || matches!(f.ftype, FieldType::Id | FieldType::Reference) { f.length } else { 0 },
                "name": f.name,
                "nameField": f.name_field,
                "namePointing": f.reference_to.len() > 1,
                "nillable": f.nillable,
                "permissionable": f.nillable && f.sys.is_none(),
                "picklistValues": f.picklist.iter().map(|p| json!({"active": true, "defaultValue": p.default, "label": p.value, "validFor": null, "value": p.value})).collect::<Vec<_>>(),
                "polymorphicForeignKey": f.reference_to.len() > 1,
                "precision": if matches!(f.ftype, FieldType::Double | FieldType::Currency | FieldType::Percent) { f.precision } else { 0 },
                "referenceTargetField": null,
                "referenceTo": f.reference_to,
                "relationshipName": f.relationship_name,
                "relationshipOrder": null,
                "restrictedPicklist": f.restricted_picklist,
                "scale": f.scale,
                "soapType": f.ftype.soap_type(),
                "sortable": f.ftype != FieldType::Textarea || f.length <= 255,
                "type": f.ftype.name(),
                "unique": f.unique,
                "updateable": f.updateable,
                "writeRequiresMasterRead": false,
            })
        })
        .collect();
    let children: Vec<Value> = org
        .schema
        .children_of(&d.name)
        .into_iter()
        .map(|(co, cf)| {
            let f = &org.def(co).fields[cf];
            json!({
                "cascadeDelete": false,
                "childSObject": org.def(co).name,
                "deprecatedAndHidden": false,
                "field": f.name,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": f.child_relationship_name,
                "restrictedDelete": false,
            })
        })
        .collect();
    let mut v = global_entry(org, o, &req.version);
    let m = v.as_object_mut().expect("object");
    m.insert("fields".into(), Value::Array(fields));
    m.insert("childRelationships".into(), Value::Array(children));
    m.insert(
        "recordTypeInfos".into(),
        json!([{"active": true, "available": true, "defaultRecordTypeMapping": true, "developerName": "Master", "master": true, "name": "Master", "recordTypeId": "012000000000000AAA", "urls": {"layout": format!("/services/data/v{}/sobjects/{}/describe/layouts/012000000000000AAA", req.version, d.name)}}]),
    );
    m.insert("compactLayoutable".into(), json!(true));
    m.insert("listviewable".into(), Value::Null);
    m.insert("lookupLayoutable".into(), Value::Null);
    m.insert("networkScopeFieldName".into(), Value::Null);
    m.insert("searchLayoutable".into(), json!(true));
    m.insert(
        "supportedScopes".into(),
        json!([{"label": format!("All {}", d.label_plural.to_lowercase()), "name": "everything"}]),
    );
    m.insert("actionOverrides".into(), json!([]));
    m.insert("namedLayoutInfos".into(), json!([]));
    m.insert("sobjectDescribeOption".into(), json!("FULL"));
    v
}
