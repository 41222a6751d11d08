//! The playground's demo data: a small, believable sales org. Deterministic,
//! so screenshots and tests see the same records every time.

use crate::org::{ADMIN_USER, Org};
use crate::values::Val;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const COMPANY_A: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Pied Piper",
    "Massive Dynamic",
    "Gringotts",
    "Oscorp",
    "Aperture",
    "Black Mesa",
    "Monarch",
    "Dunder Mifflin",
    "Prestige",
    "Blue Harbor",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Adatum",
    "Proseware",
    "Woodgrove",
    "Alpine",
    "Summit",
    "Redwood",
    "Silverline",
    "Brightpath",
    "Ironbridge",
    "Keystone",
    "Lakeshore",
    "Meridian",
    "Pinnacle",
];
const COMPANY_B: &[&str] = &[
    "Industries",
    "Corp",
    "Systems",
    "Labs",
    "Logistics",
    "Holdings",
    "Foods",
    "Energy",
    "Health",
    "Software",
    "Partners",
    "Manufacturing",
    "Media",
    "Analytics",
    "Robotics",
    "Capital",
    "Outfitters",
    "Networks",
    "Telecom",
    "Biotech",
];
const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Aiden", "Evelyn", "Yuki", "Priya", "Diego",
    "Fatima", "Chen", "Amara", "Tomás", "Ingrid", "Kwame", "Sofia", "Hiroshi", "Leila", "Marcus",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Nakamura",
    "Okafor",
    "Schmidt",
    "O'Brien",
    "Kowalski",
    "Patel",
    "Nguyen",
    "Rossi",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("San Francisco", "CA", "USA"),
    ("New York", "NY", "USA"),
    ("Austin", "TX", "USA"),
    ("Chicago", "IL", "USA"),
    ("Seattle", "WA", "USA"),
    ("Boston", "MA", "USA"),
    ("Denver", "CO", "USA"),
    ("Atlanta", "GA", "USA"),
    ("Toronto", "ON", "Canada"),
    ("London", "", "United Kingdom"),
    ("Paris", "", "France"),
    ("Berlin", "", "Germany"),
    ("Tokyo", "", "Japan"),
    ("Sydney", "NSW", "Australia"),
    ("São Paulo", "SP", "Brazil"),
];
const INDUSTRIES: &[&str] = &[
    "Technology",
    "Manufacturing",
    "Healthcare",
    "Finance",
    "Retail",
    "Energy",
    "Media",
    "Education",
    "Transportation",
    "Consulting",
];
const TITLES: &[&str] = &[
    "CEO",
    "CFO",
    "VP Sales",
    "Director of Operations",
    "IT Manager",
    "Procurement Lead",
    "Head of RevOps",
    "Marketing Manager",
    "Engineer",
    "Office Manager",
];
const STAGES: &[&str] = &[
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
const CASE_SUBJECTS: &[&str] = &[
    "Cannot log in to portal",
    "Invoice amount incorrect",
    "Shipment delayed",
    "Feature request: export to CSV",
    "Integration sync failing",
    "Password reset not received",
    "Upgrade pricing question",
    "Device overheating",
    "Data import error",
    "Onboarding call request",
];

fn set(org: &Org, obj: usize, vals: &mut Vec<(usize, Val)>, field: &str, v: Val) {
    if let Some(fi) = org.def(obj).field(field) {
        vals.push((fi, v));
    }
}

/// Inserts the demo records, with creation times spread over 90 days.
pub fn populate(org: &mut Org) {
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let now = org.now();
    let mut users = vec![ADMIN_USER];
    for (u, f, l, t) in [
        (
            "sam.rivera@playground.syncstudio",
            "Sam",
            "Rivera",
            "Account Executive",
        ),
        (
            "jo.chen@playground.syncstudio",
            "Jo",
            "Chen",
            "Sales Manager",
        ),
        (
            "max.okafor@playground.syncstudio",
            "Max",
            "Okafor",
            "Support Lead",
        ),
    ] {
        if let Ok(n) = org.add_user(u, f, l, crate::org::PLAYGROUND_PASSWORD, t) {
            users.push(n);
        }
    }
    let acc = org.object("Account").expect("Account");
    let con = org.object("Contact").expect("Contact");
    let opp = org.object("Opportunity").expect("Opportunity");
    let case = org.object("Case").expect("Case");
    let lead = org.object("Lead").expect("Lead");
    let camp = org.object("Campaign").expect("Campaign");
    let prod = org.object("Product2").expect("Product2");
    let book = org.object("Pricebook2").expect("Pricebook2");
    let entry = org.object("PricebookEntry").expect("PricebookEntry");
    let task = org.object("Task").expect("Task");

    let stamp = |org: &mut Org, obj: usize, id: &str, rng: &mut Rng| {
        let p = crate::ids::parse_id(id).expect("own id");
        let age = (rng.below(90 * 24 * 60) as i64) * 60_000;
        let touched = age - (rng.below((age / 60_000).max(1) as usize) as i64) * 60_000;
        if let Some(Some(r)) = org.tables[obj].slots.get_mut((p.num - 1) as usize) {
            r.created = now - age;
            r.last_modified = now - touched.max(0);
            r.modstamp = r.last_modified;
            r.visible_at = r.created;
        }
    };
    let owner = |rng: &mut Rng, users: &[u64]| {
        Val::str(crate::ids::make_id("005", users[rng.below(users.len())]))
    };

    let mut account_ids = vec![];
    for i in 0..300 {
        let mut v = vec![];
        let name = format!("{} {}", rng.pick(COMPANY_A), rng.pick(COMPANY_B));
        let name = if i >= COMPANY_A.len() * 3 {
            format!("{name} {}", i)
        } else {
            name
        };
        let (city, state, country) = CITIES[rng.below(CITIES.len())];
        set(org, acc, &mut v, "Name", Val::str(&name));
        set(
            org,
            acc,
            &mut v,
            "Type",
            Val::str(rng.pick(&[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Channel Partner / Reseller",
                "Technology Partner",
            ])),
        );
        set(org, acc, &mut v, "Industry", Val::str(rng.pick(INDUSTRIES)));
        set(
            org,
            acc,
            &mut v,
            "BillingStreet",
            Val::str(format!("{} {} St", 10 + rng.below(9000), rng.pick(LAST))),
        );
        set(org, acc, &mut v, "BillingCity", Val::str(city));
        if !state.is_empty() {
            set(org, acc, &mut v, "BillingState", Val::str(state));
        }
        set(
            org,
            acc,
            &mut v,
            "BillingPostalCode",
            Val::str(format!("{:05}", rng.below(99999))),
        );
        set(org, acc, &mut v, "BillingCountry", Val::str(country));
        set(
            org,
            acc,
            &mut v,
            "Phone",
            Val::str(format!(
                "({}) 555-{:04}",
                200 + rng.below(700),
                rng.below(10000)
            )),
        );
        let domain: String = name
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        set(
            org,
            acc,
            &mut v,
            "Website",
            Val::str(format!("https://www.{domain}.example")),
        );
        set(
            org,
            acc,
            &mut v,
            "NumberOfEmployees",
            Val::Num((10 + rng.below(20000)) as f64),
        );
        set(
            org,
            acc,
            &mut v,
            "AnnualRevenue",
            Val::Num(((1 + rng.below(500)) * 100_000) as f64),
        );
        set(
            org,
            acc,
            &mut v,
            "Rating",
            Val::str(rng.pick(&["Hot", "Warm", "Cold"])),
        );
        set(
            org,
            acc,
            &mut v,
            "AccountNumber",
            Val::str(format!("CD{:06}", 100000 + i)),
        );
        set(org, acc, &mut v, "OwnerId", owner(&mut rng, &users));
        if let Ok(id) = org.insert(acc, v, ADMIN_USER) {
            stamp(org, acc, &id, &mut rng);
            account_ids.push(id);
        }
    }
    let mut contact_ids = vec![];
    for _ in 0..600 {
        let mut v = vec![];
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let account = &account_ids[rng.below(account_ids.len())];
        set(org, con, &mut v, "FirstName", Val::str(first));
        set(org, con, &mut v, "LastName", Val::str(last));
        set(org, con, &mut v, "AccountId", Val::str(account.clone()));
        set(org, con, &mut v, "Title", Val::str(rng.pick(TITLES)));
        let email_local: String = format!("{}.{}", first, last)
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        set(
            org,
            con,
            &mut v,
            "Email",
            Val::str(format!("{email_local}{}@example.com", rng.below(100))),
        );
        set(
            org,
            con,
            &mut v,
            "Phone",
            Val::str(format!(
                "({}) 555-{:04}",
                200 + rng.below(700),
                rng.below(10000)
            )),
        );
        set(
            org,
            con,
            &mut v,
            "LeadSource",
            Val::str(rng.pick(&[
                "Web",
                "Phone Inquiry",
                "Partner Referral",
                "Purchased List",
                "Other",
            ])),
        );
        let (city, _, country) = CITIES[rng.below(CITIES.len())];
        set(org, con, &mut v, "MailingCity", Val::str(city));
        set(org, con, &mut v, "MailingCountry", Val::str(country));
        set(org, con, &mut v, "OwnerId", owner(&mut rng, &users));
        if let Ok(id) = org.insert(con, v, ADMIN_USER) {
            stamp(org, con, &id, &mut rng);
            contact_ids.push(id);
        }
    }
    let mut campaign_ids = vec![];
    for (i, name) in [
        "Spring Webinar Series",
        "Dreamforce Booth",
        "Q3 Email Nurture",
        "Partner Summit",
        "Trade Show Berlin",
        "Customer Advisory Board",
        "Holiday Promo",
        "Product Launch Tour",
        "Retargeting Ads",
        "Referral Program",
    ]
    .iter()
    .enumerate()
    {
        let mut v = vec![];
        set(org, camp, &mut v, "Name", Val::str(*name));
        set(
            org,
            camp,
            &mut v,
            "Type",
            Val::str(rng.pick(&[
                "Webinar",
                "Trade Show",
                "Email",
                "Partners",
                "Advertisement",
                "Referral Program",
            ])),
        );
        set(
            org,
            camp,
            &mut v,
            "Status",
            Val::str(rng.pick(&["Planned", "In Progress", "Completed"])),
        );
        set(
            org,
            camp,
            &mut v,
            "StartDate",
            Val::Date(crate::values::ms_to_days(now) - 60 + i as i32 * 10),
        );
        set(
            org,
            camp,
            &mut v,
            "BudgetedCost",
            Val::Num(((1 + rng.below(50)) * 1000) as f64),
        );
        set(org, camp, &mut v, "IsActive", Val::Bool(rng.chance(70)));
        if let Ok(id) = org.insert(camp, v, ADMIN_USER) {
            campaign_ids.push(id);
        }
    }
    for _ in 0..400 {
        let mut v = vec![];
        let account = &account_ids[rng.below(account_ids.len())];
        let stage = rng.pick(STAGES);
        set(
            org,
            opp,
            &mut v,
            "Name",
            Val::str(format!(
                "{} - {}",
                rng.pick(&["Renewal", "Expansion", "New Business", "Upgrade", "Pilot"]),
                rng.pick(COMPANY_A)
            )),
        );
        set(org, opp, &mut v, "AccountId", Val::str(account.clone()));
        set(org, opp, &mut v, "StageName", Val::str(stage));
        set(
            org,
            opp,
            &mut v,
            "Amount",
            Val::Num(((1 + rng.below(400)) * 500) as f64),
        );
        set(
            org,
            opp,
            &mut v,
            "Probability",
            Val::Num(match stage {
                "Closed Won" => 100.0,
                "Closed Lost" => 0.0,
                _ => (10 + rng.below(80)) as f64,
            }),
        );
        set(
            org,
            opp,
            &mut v,
            "CloseDate",
            Val::Date(crate::values::ms_to_days(now) - 60 + rng.below(180) as i32),
        );
        set(
            org,
            opp,
            &mut v,
            "LeadSource",
            Val::str(rng.pick(&["Web", "Phone Inquiry", "Partner Referral", "Other"])),
        );
        set(
            org,
            opp,
            &mut v,
            "Type",
            Val::str(rng.pick(&[
                "Existing Customer - Upgrade",
                "New Customer",
                "Existing Customer - Replacement",
            ])),
        );
        if rng.chance(30) {
            set(
                org,
                opp,
                &mut v,
                "CampaignId",
                Val::str(campaign_ids[rng.below(campaign_ids.len())].clone()),
            );
        }
        set(org, opp, &mut v, "OwnerId", owner(&mut rng, &users));
        if let Ok(id) = org.insert(opp, v, ADMIN_USER) {
            stamp(org, opp, &id, &mut rng);
        }
    }
    for _ in 0..200 {
        let mut v = vec![];
        let contact = &contact_ids[rng.below(contact_ids.len())];
        let account = {
            let p = crate::ids::parse_id(contact).expect("own id");
            let fi = org.def(con).field("AccountId").expect("field");
            org.record(con, p.num)
                .map(|r| r.get(fi).clone())
                .unwrap_or(Val::Null)
        };
        set(
            org,
            case,
            &mut v,
            "Subject",
            Val::str(rng.pick(CASE_SUBJECTS)),
        );
        set(org, case, &mut v, "ContactId", Val::str(contact.clone()));
        set(org, case, &mut v, "AccountId", account);
        set(
            org,
            case,
            &mut v,
            "Status",
            Val::str(rng.pick(&["New", "Working", "Escalated", "Closed"])),
        );
        set(
            org,
            case,
            &mut v,
            "Priority",
            Val::str(rng.pick(&["High", "Medium", "Low"])),
        );
        set(
            org,
            case,
            &mut v,
            "Origin",
            Val::str(rng.pick(&["Phone", "Email", "Web"])),
        );
        set(
            org,
            case,
            &mut v,
            "Type",
            Val::str(rng.pick(&["Question", "Problem", "Feature Request"])),
        );
        set(org, case, &mut v, "OwnerId", owner(&mut rng, &users));
        if let Ok(id) = org.insert(case, v, ADMIN_USER) {
            stamp(org, case, &id, &mut rng);
        }
    }
    for _ in 0..300 {
        let mut v = vec![];
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        set(org, lead, &mut v, "FirstName", Val::str(first));
        set(org, lead, &mut v, "LastName", Val::str(last));
        set(
            org,
            lead,
            &mut v,
            "Company",
            Val::str(format!("{} {}", rng.pick(COMPANY_A), rng.pick(COMPANY_B))),
        );
        set(org, lead, &mut v, "Title", Val::str(rng.pick(TITLES)));
        let local: String = format!("{}{}", &first[..1], last)
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        set(
            org,
            lead,
            &mut v,
            "Email",
            Val::str(format!("{local}@lead.example")),
        );
        set(
            org,
            lead,
            &mut v,
            "Status",
            Val::str(rng.pick(&[
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Not Converted",
            ])),
        );
        set(
            org,
            lead,
            &mut v,
            "LeadSource",
            Val::str(rng.pick(&["Web", "Phone Inquiry", "Partner Referral", "Purchased List"])),
        );
        set(
            org,
            lead,
            &mut v,
            "Industry",
            Val::str(rng.pick(&[
                "Banking",
                "Technology",
                "Healthcare",
                "Manufacturing",
                "Retail",
            ])),
        );
        let (city, state, country) = CITIES[rng.below(CITIES.len())];
        set(org, lead, &mut v, "City", Val::str(city));
        if !state.is_empty() {
            set(org, lead, &mut v, "State", Val::str(state));
        }
        set(org, lead, &mut v, "Country", Val::str(country));
        set(
            org,
            lead,
            &mut v,
            "Rating",
            Val::str(rng.pick(&["Hot", "Warm", "Cold"])),
        );
        set(org, lead, &mut v, "OwnerId", owner(&mut rng, &users));
        if let Ok(id) = org.insert(lead, v, ADMIN_USER) {
            stamp(org, lead, &id, &mut rng);
        }
    }
    let mut v = vec![];
    set(org, book, &mut v, "Name", Val::str("Standard Price Book"));
    set(org, book, &mut v, "IsActive", Val::Bool(true));
    let book_id = org.insert(book, v, ADMIN_USER).ok();
    for (i, (name, family, price)) in [
        ("Sync Studio Cloud - Starter", "Software", 49.0),
        ("Sync Studio Cloud - Team", "Software", 199.0),
        ("Sync Studio Cloud - Enterprise", "Software", 999.0),
        ("Onboarding Package", "Services", 2500.0),
        ("Premium Support", "Services", 1200.0),
        ("Edge Gateway G1", "Hardware", 799.0),
        ("Edge Gateway G2", "Hardware", 1299.0),
        ("Data Migration Day", "Services", 1800.0),
    ]
    .iter()
    .enumerate()
    {
        let mut v = vec![];
        set(org, prod, &mut v, "Name", Val::str(*name));
        set(
            org,
            prod,
            &mut v,
            "ProductCode",
            Val::str(format!("SS-{:03}", i + 1)),
        );
        set(org, prod, &mut v, "Family", Val::str(*family));
        set(org, prod, &mut v, "IsActive", Val::Bool(true));
        set(
            org,
            prod,
            &mut v,
            "ExternalId",
            Val::str(format!("PROD-{:03}", i + 1)),
        );
        if let (Ok(pid), Some(bid)) = (org.insert(prod, v, ADMIN_USER), &book_id) {
            let mut e = vec![];
            set(org, entry, &mut e, "Pricebook2Id", Val::str(bid.clone()));
            set(org, entry, &mut e, "Product2Id", Val::str(pid));
            set(org, entry, &mut e, "UnitPrice", Val::Num(*price));
            set(org, entry, &mut e, "IsActive", Val::Bool(true));
            set(org, entry, &mut e, "Name", Val::str(*name));
            let _ = org.insert(entry, e, ADMIN_USER);
        }
    }
    for _ in 0..150 {
        let mut v = vec![];
        set(
            org,
            task,
            &mut v,
            "Subject",
            Val::str(rng.pick(&[
                "Call",
                "Send Quote",
                "Send Letter",
                "Follow up on proposal",
                "Demo",
            ])),
        );
        set(
            org,
            task,
            &mut v,
            "WhoId",
            Val::str(contact_ids[rng.below(contact_ids.len())].clone()),
        );
        set(
            org,
            task,
            &mut v,
            "Status",
            Val::str(rng.pick(&["Not Started", "In Progress", "Completed"])),
        );
        set(
            org,
            task,
            &mut v,
            "ActivityDate",
            Val::Date(crate::values::ms_to_days(now) - 20 + rng.below(40) as i32),
        );
        set(org, task, &mut v, "OwnerId", owner(&mut rng, &users));
        if let Ok(id) = org.insert(task, v, ADMIN_USER) {
            stamp(org, task, &id, &mut rng);
        }
    }
}
