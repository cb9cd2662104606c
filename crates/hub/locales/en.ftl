# The console's words in English. Every message here has a twin in zh.ftl (a test checks).

## Frame
nav-label = Main
nav-shops = Shops
nav-sync = Sync
nav-orders = Orders
nav-earnings = Earnings
nav-links = Links
nav-activity = Activity
switch-language = 中文
sign-in = Sign in
sign-out = Sign out
apply = Apply
clear-filters = Clear filters
export-csv = Export CSV
copy = Copy
copied = Copied
total = Total
countdown-units = d|h|min|s
token-expired = Expired
duration-ms = { $n } ms
duration-s = { $n } s
duration-min = { $m } min { $s } s
pages-label = Pages
back-to-shops = Back to shops
back-to-orders = Back to orders
back-to-sync = Back to sync
back-to-console = Open the console

## Titles
title-login = Sign in
title-shops = Shops
title-sync = Sync
title-orders = Orders
title-order = Order
title-earnings = Earnings
title-links = Links
title-activity = Activity
title-connect = Connecting a shop
title-error = Something went wrong

## Sign-in
login-title = Sign in to shopbridge
login-help = Use your tenant's app key and app secret.
login-failed = Unknown app key or wrong secret.
field-app-key = App key
field-app-secret = App secret

## Shops
col-name = Name
col-kind = Platform
col-state = State
col-token-expires = Authorization expires in
col-last-error = Last error
col-actions = Actions
state-active = Active
state-refreshing = Refreshing
state-needs_reauth = Needs re-authorization
state-revoked = Revoked
state-pending = Pending
action-reauthorize = Re-authorize
shops-revoked-help = No longer syncing. Re-authorize it to bring it back with its data, or delete it.
action-revoke = Revoke
action-delete = Delete
action-redeliver = Redeliver
confirm-revoke = Revoke “{ $name }”? The grant ends at the platform too and the shop stops syncing. You can re-authorize it later.
confirm-delete = Delete “{ $name }” and all its synced data (orders, refunds, products, history)? This cannot be undone.
shops-reauth-prompt = { $count ->
    [one] One shop lost its authorization and stopped syncing: use Re-authorize and sign in on the platform to resume.
   *[other] { $count } shops lost their authorization and stopped syncing: use Re-authorize and sign in on the platform to resume.
}
shops-sync-paused = Sync paused
shops-empty = No shops yet
shops-empty-help = Connect a shop below: you sign in on the platform and come back here.
shops-connect = Connect a shop
shops-connect-help = Each kind of shop is authorized on its platform's own page; shopbridge stores the authorization encrypted.
field-shop-name = Shop name
notice-revoked = The shop was revoked; its data stays until you delete it.
notice-deleted = The shop and its data were deleted.
notice-redelivered = The delivery was queued again.

## Connect flow
connect-done = Shop connected
connect-redone = Shop re-authorized
connect-done-detail = The shop is connected; its first sync starts within a minute.
connect-redone-detail = The shop is authorized again and syncs as before.
connect-failed = The shop was not connected
connect-open-shop = See the shop in the console

## Sync
sync-help = Each stream runs on its own schedule; “Sync now” runs every stream of your shops at once.
sync-now = Sync now
sync-live = Syncing… this page refreshes until the runs finish.
sync-started = Sync started: every stream of your active shops runs now.
sync-paused = Not syncing: the shop is { $state }.
sync-not-scheduled = Paused
sync-empty = Nothing to sync yet
sync-empty-help = Connect a shop first; its streams appear here.
sync-changed-help = “Changed” counts the records the run added or changed; a run that found nothing new shows 0.
col-stream = Stream
col-outcome = Result
col-finished = Finished
col-started = Started
col-duration = Duration
col-pages = Pages
col-changed = Changed
col-next-run = Next run
col-error = Error
outcome-complete = Complete
outcome-running = Running
outcome-fetching = Running
outcome-interrupted = Interrupted
outcome-fetch_error = Failed
outcome-auth_error = Authorization failed
outcome-failed = Failed
outcome-never = Not run yet
outcome-other = Unknown
runs-empty = No runs yet
runs-empty-help = The first run is scheduled; “Sync now” starts it at once.

## Orders
field-shop = Shop
field-status = Status
status-any = Any status
field-changed-from = Updated from
field-changed-to = Updated until
field-order-number = Order number
field-order-number-hint = Starts with…
col-order = Order
col-status = Status
col-updated = Last change
col-amount = Amount
col-commission = Commission
orders-count = { $count ->
    [one] One order
   *[other] { $count } orders
}
orders-count-more = More than { $count } orders
page-newest = « Newest
page-newer = ‹ Newer
page-older = Older ›
page-oldest = Oldest »
orders-empty = No orders yet
orders-empty-help = Orders appear after the shop's first sync.
orders-none-match = No orders match
orders-none-match-help = Try another status, a wider date range or a shorter number.
orders-no-shops = No shop with orders
orders-no-shops-help = Connect a shop that sells or promotes; its orders appear here after a sync.
invalid-date = { $field }: expected a date as YYYY-MM-DD, got { $value }.
invalid-cursor = { $field }: expected a cursor from this page's links, got { $value }.
invalid-range = The end date comes before the start date.

## Order detail
order-receiver = Receiver
order-receiver-name = Name
order-phone = Phone
order-address = Address
order-facts = Details
order-created = Placed
order-paid = Paid
order-modified = Last change
order-warehouse = Warehouse
order-logistics = Shipment
order-buyer-remark = Buyer's note
order-seller-remark = Seller's note
order-lines = Items
col-product = Product
col-sku = SKU / code
col-count = Qty
col-price = Unit price
col-refund = Refund
order-goods-fee = Goods
order-post-fee = Shipping
order-discount = Discount
order-total = Total
order-real-paid = Paid by buyer
order-actions = Actions
order-ship = Ship this order
field-carrier = Carrier
field-tracking-no = Tracking number
order-ship-button = Ship
order-check-refund = Refund status
order-check-refund-help = Ask the platform now whether the order is being refunded.
order-check-refund-button = Check with the platform
order-timeline = History
order-shipped = Shipment sent with tracking number { $tracking }; the order shows it after its next sync.
order-refund-checked = The platform says: { $status }.
change-first-seen = First synced: { $status }
change-status = Status: { $from } → { $to }
change-logistics = Shipped, tracking number
change-line-refund = { $from } → { $to }
change-amount = Total: ¥{ $from } → ¥{ $to }
change-commission = Commission: ¥{ $from } → ¥{ $to }
change-nothing = Synced again, no visible change
union-commission = Commission
union-pid = PID
union-customer = Customer
union-customer-new = New
union-customer-old = Returning
union-customer-unknown = Unknown
union-order-time = Ordered
union-sign-time = Signed for
union-settled-time = Settled
union-stat-param = Tracking tag (statParam)
col-commission-base = Commission base
col-commission-rate = Rate

## Order statuses (polyapi codes)
order-status-JH_01 = Awaiting payment
order-status-JH_02 = Awaiting shipment
order-status-JH_03 = Shipped, awaiting receipt
order-status-JH_04 = Completed
order-status-JH_05 = Closed
order-status-JH_06 = Paused
order-status-JH_07 = Locked
order-status-JH_08 = Partly shipped
order-status-JH_09 = Frozen
order-status-JH_10 = Out of stock
order-status-JH_12 = Complaint
order-status-JH_13 = Split
order-status-JH_14 = Return or exchange
order-status-JH_15 = Awaiting invoice
order-status-JH_17 = Processing
order-status-JH_18 = Cancelled before shipping
order-status-JH_19 = Cancelled after shipping
order-status-JH_20 = Cancelled after pickup
order-status-JH_21 = No shipping needed
order-status-JH_22 = Cancellation under review
order-status-JH_23 = Refused by the buyer
order-status-JH_24 = Shipping forbidden
order-status-JH_98 = Other
order-status-JH_99 = All
refund-status-JH_01 = Refund requested
refund-status-JH_02 = Agreed, awaiting return
refund-status-JH_03 = Returned, awaiting seller
refund-status-JH_04 = Refund refused
refund-status-JH_05 = Refund closed
refund-status-JH_06 = Refunded
refund-status-JH_07 = No refund
refund-status-JH_08 = Refunding
refund-status-JH_09 = Partly refunded
refund-status-JH_10 = Under review
refund-status-JH_99 = Other
union-stage-ordered = Ordered
union-stage-paid = Paid
union-stage-signed = Signed for
union-stage-pending = Pending settlement
union-stage-settled = Settled
union-stage-invalid = Invalid
union-stage-other = { $name }

## Earnings
field-period = Period
period-days = Last { $days } days
earnings-settled = Settled commission
earnings-deducted = Deductions
earnings-net = Net earnings
earnings-orders = { $count ->
    [one] one order
   *[other] { $count } orders
}
earnings-period = { $from } – { $to } (Beijing time)
earnings-by-day = By day
earnings-by-pid = By PID
earnings-chart-label = Settled commission and deductions per day over the last { $days } days
earnings-empty = No settled commission in this period
earnings-empty-help = Commission counts when an order settles, about two weeks after the buyer signs for it.
earnings-no-pids = No PID earned in this period
earnings-no-shops = No Union account
earnings-no-shops-help = Connect a Vipshop Union account on the Shops page to see its earnings.
col-pid = PID
col-settled-orders = Settled orders
csv-day = Day

## Links
links-help = Paste any text with Vipshop links: shopbridge finds the goods, adds your chanTag to each link locally, and asks Vipshop for promotion links.
field-link-text = Text or link
field-link-text-hint = e.g. a message with https://m.vip.com/product-…html
field-chan-tag = chanTag (PID)
field-stat-param = statParam (optional)
links-go = Detect and generate
links-detected = Goods found
links-no-goods = No goods found
links-no-goods-help = Paste a product page link (m.vip.com/product-…) or a goods id.
links-text-too-long = The text has { $count } characters; paste at most { $max } at a time.
links-truncated = The text holds more links or goods than the tool reads at once; only the first 200 of each are shown.
links-spliced = Tagged links (built locally)
links-generated = Promotion links
links-no-shops = Connect a Union account to generate promotion links; splicing works without one.
link-kind-url = Short link
link-kind-long_url = Long link
link-kind-ul_url = Universal link
link-kind-deeplink = App deeplink
link-kind-tra_from = Mini-program traFrom
warning-mini-program-tra-from = A mini-program traFrom must start with adp: (use the one the link service returned), or orders will not be attributed.
warning-universal-link = If this is a universal link, iOS opens the Vipshop app directly and the spliced parameters are lost: splice the deeplink's traFrom instead.

## Activity
activity-audit = Audit log
activity-deliveries = Webhook deliveries
activity-empty = Nothing recorded yet
activity-empty-help = Sign-ins, connections, revocations and deletions are recorded here.
deliveries-empty = No deliveries yet
deliveries-empty-help = Register a webhook through the REST API to receive events.
col-time = Time
col-action = Action
col-shop = Shop
col-detail = Detail
col-endpoint = Endpoint
col-event = Event
col-attempts = Attempts
audit-console_login = Signed in to the console
audit-connect = Connected a shop
audit-reauthorize = Re-authorized a shop
audit-revoke = Revoked a shop
audit-shop_delete = Deleted a shop
audit-token_expiring = Token expiring soon
audit-webhook_redeliver = Redelivered a webhook
audit-tenant_rotate_secret = Rotated the app secret
audit-tenant_delete = Deleted the tenant
audit-other = { $action }
actor-console = from the console
actor-api = through the API
via-credentials = with credentials it already had
via-authorization = through the platform's sign-in page (OAuth)
shop-deleted = (deleted shop)
delivery-pending = Pending
delivery-delivered = Delivered
delivery-failed = Failed
delivery-cancelled = Cancelled (its shop was deleted)
delivery-other = Unknown

## Errors
error-stale-form = The form is stale or was sent from another site: reload the page and try again.
error-store-busy = shopbridge's store is busy; try again in a moment.
error-store-failed = shopbridge's store failed; try again later.
error-not-found = Not found
error-no-order = There is no order { $number } in this shop.
error-no-shop = There is no such shop.
token-no-expiry = No expiry
audit-deleted-records = deleted with its { $count } records
