-- Analyst views of the published warehouse (warehouse.md, "For analysts").
-- Executed by crm_pipelines/publish/analyst.py after every table is loaded; documented in
-- catalog.yaml like the tables. Views hold no data: they read the tables of the same file.

-- One row per golden customer with everything attached to it as nested lists.
CREATE VIEW master.customer_360 AS
WITH accounts AS (
    SELECT customer_id,
           list({'account_id': account_id, 'account_key': account_key, 'account_type': account_type,
                 'status': status, 'name': name, 'currency': currency, 'billing_cycle': billing_cycle,
                 'payment_method': payment_method, 'credit_limit': credit_limit,
                 'billing_contact_person_id': billing_contact_person_id}
                ORDER BY account_key) AS accounts
    FROM master.account WHERE customer_id IS NOT NULL GROUP BY customer_id
), persons AS (
    SELECT r.customer_id,
           list({'person_id': p.person_id, 'person_key': p.person_key, 'role_type': r.role_type,
                 'first_name': p.first_name, 'last_name': p.last_name, 'birth_date': p.birth_date,
                 'email': p.email, 'phone': p.phone, 'consent_email': p.consent_email,
                 'consent_sms': p.consent_sms, 'consent_post': p.consent_post}
                ORDER BY r.role_type, p.person_key) AS persons
    FROM master.person_role r JOIN master.person p USING (person_id) GROUP BY r.customer_id
), addresses AS (
    SELECT ar.owner_id AS customer_id,
           list({'address_id': a.address_id, 'address_key': a.address_key, 'role_type': ar.role_type,
                 'address_line': a.address_line, 'street': a.street, 'house_number': a.house_number,
                 'city': a.city, 'postcode': a.postcode, 'country': a.country,
                 'quality_status': a.quality_status}
                ORDER BY ar.role_type, a.address_key) AS addresses
    FROM master.crm_address_role ar JOIN master.crm_address a USING (address_id)
    WHERE ar.owner_kind = 'CUSTOMER' GROUP BY ar.owner_id
), leads AS (
    SELECT matched_customer_id AS customer_id,
           list({'lead_id': lead_id, 'lead_key': lead_key, 'status': status, 'email': email,
                 'phone': phone, 'product_interest': product_interest, 'created_at': created_at}
                ORDER BY lead_key) AS leads
    FROM master.lead WHERE matched_customer_id IS NOT NULL GROUP BY matched_customer_id
), consents AS (
    SELECT c.customer_id,
           list({'channel': upper(replace(l.attribute, 'consent_', '')),
                 'given': CASE l.attribute WHEN 'consent_email' THEN c.consent_email
                                           WHEN 'consent_sms' THEN c.consent_sms
                                           ELSE c.consent_post END,
                 'source_system': l.source_system, 'source_id': l.source_id,
                 'stated_at': l.updated_at}
                ORDER BY l.attribute) AS consents
    FROM master.customer c
    JOIN master.attribute_lineage l
      ON l.entity = 'customer' AND l.master_id = c.customer_id
     AND l.attribute IN ('consent_email', 'consent_sms', 'consent_post')
    GROUP BY c.customer_id
), targeting AS (
    SELECT target_id AS customer_id,
           list({'campaign_key': campaign_key, 'channel': channel, 'contact': contact,
                 'person_id': person_id, 'consent_feed': consent_feed,
                 'consent_source_system': consent_source_system,
                 'consent_feed_source_id': consent_feed_source_id}
                ORDER BY campaign_key) AS campaign_targets
    FROM marketing.campaign_target WHERE target_kind = 'CUSTOMER' GROUP BY target_id
), exclusions AS (
    SELECT target_id AS customer_id,
           list({'campaign_key': campaign_key, 'channel': channel, 'reason': reason,
                 'reason_text': reason_text}
                ORDER BY campaign_key, reason) AS campaign_exclusions
    FROM marketing.campaign_exclusion WHERE target_kind = 'CUSTOMER' GROUP BY target_id
)
SELECT c.customer_id, c.customer_key, c.name, c.party_type, c.customer_type, c.status, c.segment,
       c.email, c.phone, c.country, c.source_count,
       coalesce(accounts.accounts, []) AS accounts,
       coalesce(persons.persons, []) AS persons,
       coalesce(addresses.addresses, []) AS addresses,
       coalesce(leads.leads, []) AS leads,
       coalesce(consents.consents, []) AS consents,
       coalesce(targeting.campaign_targets, []) AS campaign_targets,
       coalesce(exclusions.campaign_exclusions, []) AS campaign_exclusions
FROM master.customer c
LEFT JOIN accounts USING (customer_id)
LEFT JOIN persons USING (customer_id)
LEFT JOIN addresses USING (customer_id)
LEFT JOIN leads USING (customer_id)
LEFT JOIN consents USING (customer_id)
LEFT JOIN targeting USING (customer_id)
LEFT JOIN exclusions USING (customer_id);

-- TM Forum shaped views: field names of ../shared/notes/tmf-fields.md (v4 resources).
CREATE SCHEMA tmf;

-- ContactMedium entries share one struct shape so they fit in one list.
CREATE MACRO tmf.contact_media(email, phone, is_mobile) AS list_filter([
    CASE WHEN email IS NOT NULL THEN
        {'mediumType': 'email', 'preferred': true,
         'characteristic': {'emailAddress': email, 'phoneNumber': NULL::VARCHAR,
                            'contactType': 'email'}} END,
    CASE WHEN phone IS NOT NULL THEN
        {'mediumType': 'phone', 'preferred': email IS NULL,
         'characteristic': {'emailAddress': NULL::VARCHAR, 'phoneNumber': phone,
                            'contactType': CASE WHEN is_mobile THEN 'mobile' ELSE 'fixed' END}} END
], lambda m: m IS NOT NULL);

-- TMF632 Individual: one per golden person (a human, across customers).
CREATE VIEW tmf.individual AS
SELECT p.person_id AS id,
       '/tmf-api/partyManagement/v4/individual/' || p.person_id AS href,
       p.first_name AS givenName,
       p.last_name AS familyName,
       concat_ws(' ', p.first_name, p.last_name) AS fullName,
       strftime(p.birth_date, '%Y-%m-%d') AS birthDate,
       'validated' AS status,
       tmf.contact_media(p.email, p.phone, p.phone_is_mobile) AS contactMedium,
       CASE WHEN p.national_id IS NOT NULL THEN
           [{'identificationId': p.national_id, 'identificationType': 'nationalId'}]
       ELSE [] END AS individualIdentification,
       coalesce((SELECT list({'id': r.customer_id,
                              'href': '/tmf-api/customerManagement/v4/customer/' || r.customer_id,
                              'name': c.name, 'role': r.role_type, '@referredType': 'Customer'}
                             ORDER BY r.role_type, r.customer_id)
                 FROM master.person_role r JOIN master.customer c USING (customer_id)
                 WHERE r.person_id = p.person_id), []) AS relatedParty
FROM master.person p;

-- TMF632 Organization: one per golden customer of party type ORGANIZATION (its id is the
-- customer's id: the master knows an organisation only as a customer).
CREATE VIEW tmf.organization AS
SELECT c.customer_id AS id,
       '/tmf-api/partyManagement/v4/organization/' || c.customer_id AS href,
       coalesce(c.organization_name, c.name) AS name,
       c.legal_form AS organizationType,
       true AS isLegalEntity,
       CASE WHEN c.status = 'TERMINATED' THEN 'closed' ELSE 'validated' END AS status,
       tmf.contact_media(c.email, c.phone, c.phone_is_mobile) AS contactMedium,
       list_filter([
           CASE WHEN c.registration_no IS NOT NULL THEN
               {'identificationId': c.registration_no, 'identificationType': 'registrationNumber'} END,
           CASE WHEN c.vat_no IS NOT NULL THEN
               {'identificationId': c.vat_no, 'identificationType': 'vatNumber'} END
       ], lambda i: i IS NOT NULL) AS organizationIdentification
FROM master.customer c
WHERE c.party_type = 'ORGANIZATION';

-- TMF629 Customer: the engaged party is the organisation, or an individual customer's OWNER.
CREATE VIEW tmf.customer AS
WITH owner AS (
    SELECT r.customer_id, min(r.person_id) AS person_id
    FROM master.person_role r WHERE r.role_type = 'OWNER' GROUP BY r.customer_id
)
SELECT c.customer_id AS id,
       '/tmf-api/customerManagement/v4/customer/' || c.customer_id AS href,
       c.name AS name,
       lower(c.status) AS status,
       CASE WHEN c.party_type = 'ORGANIZATION' THEN
           {'id': c.customer_id, 'href': '/tmf-api/partyManagement/v4/organization/' || c.customer_id,
            'name': c.name, 'role': 'customer', '@referredType': 'Organization'}
       WHEN owner.person_id IS NOT NULL THEN
           {'id': owner.person_id, 'href': '/tmf-api/partyManagement/v4/individual/' || owner.person_id,
            'name': c.name, 'role': 'customer', '@referredType': 'Individual'}
       END AS engagedParty,
       coalesce((SELECT list({'id': a.account_id, 'name': coalesce(a.name, a.account_key),
                              'description': a.account_type, '@referredType': 'BillingAccount'}
                             ORDER BY a.account_key)
                 FROM master.account a WHERE a.customer_id = c.customer_id), []) AS account,
       tmf.contact_media(c.email, c.phone, c.phone_is_mobile) AS contactMedium,
       list_filter([
           {'name': 'customerKey', 'valueType': 'string', 'value': c.customer_key},
           {'name': 'customerType', 'valueType': 'string', 'value': c.customer_type},
           {'name': 'segment', 'valueType': 'string', 'value': c.segment},
           {'name': 'partyType', 'valueType': 'string', 'value': c.party_type}
       ], lambda ch: ch.value IS NOT NULL) AS characteristic,
       coalesce((SELECT list({'id': r.person_id,
                              'href': '/tmf-api/partyManagement/v4/individual/' || r.person_id,
                              'name': concat_ws(' ', p.first_name, p.last_name),
                              'role': r.role_type, '@referredType': 'Individual'}
                             ORDER BY r.role_type, r.person_id)
                 FROM master.person_role r JOIN master.person p USING (person_id)
                 WHERE r.customer_id = c.customer_id), []) AS relatedParty
FROM master.customer c
LEFT JOIN owner USING (customer_id);

-- TMF669 PartyRole: one per golden person's role for a golden customer.
CREATE VIEW tmf.party_role AS
SELECT md5(r.person_id || '|' || r.role_type || '|' || r.customer_id) AS id,
       '/tmf-api/partyRoleManagement/v4/partyRole/'
           || md5(r.person_id || '|' || r.role_type || '|' || r.customer_id) AS href,
       r.role_type AS name,
       'active' AS status,
       {'id': r.person_id, 'href': '/tmf-api/partyManagement/v4/individual/' || r.person_id,
        'name': concat_ws(' ', p.first_name, p.last_name), 'role': r.role_type,
        '@referredType': 'Individual'} AS engagedParty,
       [{'id': r.customer_id, 'href': '/tmf-api/customerManagement/v4/customer/' || r.customer_id,
         'name': c.name, 'role': 'customer', '@referredType': 'Customer'}] AS relatedParty
FROM master.person_role r
JOIN master.person p USING (person_id)
JOIN master.customer c USING (customer_id);

-- TMF666 BillingAccount: one per golden account.
CREATE VIEW tmf.billing_account AS
SELECT a.account_id AS id,
       '/tmf-api/accountManagement/v4/billingAccount/' || a.account_id AS href,
       coalesce(a.name, a.account_key) AS name,
       a.account_type AS accountType,
       a.status AS state,
       strftime(a.updated_at, '%Y-%m-%dT%H:%M:%SZ') AS lastModified,
       CASE WHEN a.credit_limit IS NOT NULL THEN
           {'unit': a.currency, 'value': a.credit_limit} END AS creditLimit,
       list_filter([
           CASE WHEN a.customer_id IS NOT NULL THEN
               {'id': a.customer_id, 'href': '/tmf-api/customerManagement/v4/customer/' || a.customer_id,
                'name': c.name, 'role': 'owner', '@referredType': 'Customer'} END,
           CASE WHEN a.billing_contact_person_id IS NOT NULL THEN
               {'id': a.billing_contact_person_id,
                'href': '/tmf-api/partyManagement/v4/individual/' || a.billing_contact_person_id,
                'name': NULL::VARCHAR, 'role': 'billingContact', '@referredType': 'Individual'} END
       ], lambda rp: rp IS NOT NULL) AS relatedParty
FROM master.account a
LEFT JOIN master.customer c USING (customer_id);

-- TMF673 GeographicAddress: one per golden building address.
CREATE VIEW tmf.geographic_address AS
SELECT a.address_id AS id,
       '/tmf-api/geographicAddressManagement/v4/geographicAddress/' || a.address_id AS href,
       a.address_line AS name,
       a.street AS streetName,
       a.house_number AS streetNr,
       a.city AS city,
       a.postcode AS postcode,
       a.country AS country
FROM master.crm_address a;
