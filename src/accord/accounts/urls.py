from django.urls import path

from accord.accounts.views import admin, me, sign_in, tokens

app_name = "accounts"
urlpatterns = [
    # the sign-in steps (reachable before a full sign-in: see accounts.middleware)
    path("sign-in/", sign_in.sign_in_view, name="sign-in"),
    path("sign-in/code/", sign_in.second_factor_view, name="second-factor"),
    path("sign-in/authenticator/", sign_in.enrol_view, name="enrol"),
    path("sign-in/notice/", sign_in.banner_view, name="banner"),
    path("sign-out/", sign_in.sign_out_view, name="sign-out"),
    path("reauth/", sign_in.reauth_view, name="reauth"),
    # my account
    path("security/", me.security_view, name="security"),
    path("security/password/", me.change_password_view, name="change-password"),
    path("security/recovery-codes/", me.recovery_codes_view, name="recovery-codes"),
    path("sessions/<int:session_id>/end/", me.end_session_view, name="session-end"),
    # account administration
    path("users/", admin.user_list_view, name="user-list"),
    path("users/<int:user_id>/", admin.user_detail_view, name="user-detail"),
    path("users/<int:user_id>/set-password/", admin.set_password_view, name="user-set-password"),
    path(
        "users/<int:user_id>/unlock/",
        admin.user_operation_view,
        {"operation": "unlock"},
        name="user-unlock",
    ),
    path(
        "users/<int:user_id>/disable/",
        admin.user_operation_view,
        {"operation": "disable"},
        name="user-disable",
    ),
    path(
        "users/<int:user_id>/enable/",
        admin.user_operation_view,
        {"operation": "enable"},
        name="user-enable",
    ),
    path(
        "users/<int:user_id>/reset-authenticator/",
        admin.user_operation_view,
        {"operation": "reset-authenticator"},
        name="user-reset-authenticator",
    ),
    # API tokens
    path("tokens/", tokens.token_list_view, name="token-list"),
    path("tokens/new/", tokens.token_create_view, name="token-create"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke_view, name="token-revoke"),
]
